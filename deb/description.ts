/**
 * The Description field (Debian Policy §5.6.13): a one-line synopsis, then an extended description
 * whose lines each start with a space. " ." is a blank line, a line starting with two or more
 * spaces is shown verbatim, other lines are words to be wrapped into paragraphs.
 */

export type DescriptionBlock = { kind: "paragraph"; text: string } | { kind: "verbatim"; lines: string[] };

export interface Description {
  synopsis: string;
  blocks: DescriptionBlock[];
}

export function parseDescription(value: string): Description {
  const [synopsis = "", ...rest] = value.split("\n");
  const blocks: DescriptionBlock[] = [];
  let current: DescriptionBlock | null = null;
  for (const raw of rest) {
    // The first space only marks a continuation line (tab too, per deb822).
    const line = raw.slice(1);
    if (line.trim() === "." || line.startsWith(".")) {
      // A blank line; "." followed by other text is reserved (§5.6.13) and shown as blank too.
      current = null;
      continue;
    }
    if (line.startsWith(" ")) {
      if (current?.kind !== "verbatim") {
        current = { kind: "verbatim", lines: [] };
        blocks.push(current);
      }
      current.lines.push(line);
      continue;
    }
    if (current?.kind !== "paragraph") {
      current = { kind: "paragraph", text: line.trim() };
      blocks.push(current);
    } else current.text += ` ${line.trim()}`;
  }
  return { synopsis: synopsis.trim(), blocks };
}
