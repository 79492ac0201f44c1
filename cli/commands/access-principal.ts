import { UserError } from "../errors.ts";

/** The grantee `armor access grant` and `revoke` name: exactly one of --account and --token-id. */
export function principal(options: { account?: string; tokenId?: string }): { account: string } | { token_id: string } {
  if ((options.account === undefined) === (options.tokenId === undefined)) {
    throw new UserError("name exactly one of --account or --token-id", { code: "usage", exitCode: 2 });
  }
  return options.account !== undefined ? { account: options.account } : { token_id: options.tokenId ?? "" };
}
