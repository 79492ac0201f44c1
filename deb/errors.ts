/**
 * Every way a `.deb` or a control file can be refused, as a stable snake_case code. The Worker maps
 * these to `400 invalid_package` with the code in `details`, so clients can tell them apart.
 */
import { ok, type Result as SchemaResult } from "../schema/result.ts";

export type DebErrorCode =
  // ar container (deb(5))
  | "not_ar_archive"
  | "truncated"
  | "bad_ar_header"
  | "bad_ar_member_name"
  // deb(5) member layout
  | "bad_debian_binary"
  | "unsupported_deb_version"
  | "member_order"
  | "missing_control_member"
  | "missing_data_member"
  | "unsupported_compression"
  // control.tar
  | "control_member_too_large"
  | "control_decompression_failed"
  | "control_tar_too_large"
  | "bad_tar"
  | "missing_control_file"
  | "duplicate_control_file"
  | "control_file_too_large"
  // control file contents (Debian Policy §5)
  | "not_utf8"
  | "forbidden_character"
  | "bad_field_name"
  | "bad_field_syntax"
  | "duplicate_field"
  | "empty_continuation_line"
  | "multiple_paragraphs"
  | "comment_in_control"
  | "field_too_long"
  | "reserved_field"
  | "missing_field"
  | "bad_package_name"
  | "bad_version"
  | "bad_architecture"
  | "bad_source"
  // source packages: .dsc and .changes (Debian Policy §5.4, §5.5; dpkg-source(1))
  | "dsc_too_large"
  | "bad_signed_message"
  | "unknown_source_format"
  | "bad_file_list"
  | "bad_file_name"
  | "checksum_lists_differ"
  | "too_many_files"
  // pool paths and index rendering
  | "bad_component"
  // a Release text to sign (release.ts validateReleaseText)
  | "malformed_release";

/** An expected failure, as a value (STYLE.md): a code, a message a person can act on, a field if any. */
export interface DebError {
  code: DebErrorCode;
  message: string;
  field?: string;
}

export type Result<T, E = DebError> = SchemaResult<T, E>;
export { ok };

/** An expected failure as the value a deb/ function returns (it throws nothing: see DebFormatError). */
export function refusal(code: DebErrorCode, message: string, field?: string): { ok: false; error: DebError } {
  return { ok: false, error: field === undefined ? { code, message } : { code, message, field } };
}

/**
 * Thrown only inside deb/'s parsers to unwind from deep in a stream, and caught at their public
 * entry points, which turn it back into a `DebError` value. It never leaves deb/.
 */
export class DebFormatError extends Error {
  readonly error: DebError;

  constructor(code: DebErrorCode, message: string, field?: string) {
    super(message);
    this.name = "DebFormatError";
    this.error = field === undefined ? { code, message } : { code, message, field };
  }
}
