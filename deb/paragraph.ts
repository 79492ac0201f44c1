/**
 * Reading a deb822 paragraph this code base wrote itself: a Packages stanza (deb/packages.ts) as a
 * repository stores it beside each member. Its fields were validated on upload (deb/control.ts),
 * so reading is only splitting; anything odd is kept as written rather than refused.
 */
import type { ControlField } from "./control.ts";

/** The fields of one stanza in order, values as `ControlField` holds them (continuations after "\n"). */
export function readParagraph(text: string): ControlField[] {
  const fields: ControlField[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const last = fields.at(-1);
    if ((line.startsWith(" ") || line.startsWith("\t")) && last !== undefined) {
      last.value += `\n${line}`;
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    fields.push({ name: line.slice(0, colon), value: line.slice(colon + 1).trim() });
  }
  return fields;
}
