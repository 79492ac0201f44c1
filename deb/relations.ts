/**
 * Relationship fields of binary packages (Debian Policy §7.1): a comma-separated list of groups,
 * each a `|`-separated list of alternatives, each a package name with an optional architecture
 * qualifier (`:any`, §7.1 and the Multi-Arch spec), version constraint (`(>= 1.0)`), architecture
 * restriction (`[amd64]`) and build profiles (`<!nocheck>`, source packages only). Read leniently:
 * an alternative whose name does not parse is kept as text, never dropped, so what is shown is
 * always what the package says.
 */

/** The fields of a binary package that name other packages (Policy §7.1, §7.3–§7.6). */
export const RELATION_FIELDS = [
  "Pre-Depends",
  "Depends",
  "Recommends",
  "Suggests",
  "Enhances",
  "Breaks",
  "Conflicts",
  "Replaces",
  "Provides",
] as const;

export interface RelationAlternative {
  /** The package name, or null when the text does not start with one. */
  name: string | null;
  /** What follows the name as written, whitespace collapsed: ":any", " (>= 1.0)", " [amd64]"… */
  rest: string;
}

/** A group of alternatives: any one of them satisfies it. */
export type RelationGroup = RelationAlternative[];

// Policy §5.6.1 package names; an architecture qualifier after a colon.
const ALTERNATIVE = /^([a-z0-9][a-z0-9+.-]*)(.*)$/;

export function parseRelations(value: string): RelationGroup[] {
  const groups: RelationGroup[] = [];
  for (const group of value.replace(/\s+/g, " ").split(",")) {
    if (group.trim() === "") continue;
    groups.push(
      group.split("|").map((alternative) => {
        const text = alternative.trim();
        const m = ALTERNATIVE.exec(text);
        return m === null ? { name: null, rest: text } : { name: m[1] ?? null, rest: m[2] ?? "" };
      }),
    );
  }
  return groups;
}

/** Every package name the relationship fields of `fields` mention, once each. */
export function relatedNames(fields: readonly { name: string; value: string }[]): string[] {
  const relation = new Set<string>(RELATION_FIELDS.map((f) => f.toLowerCase()));
  const names = new Set<string>();
  for (const f of fields) {
    if (!relation.has(f.name.toLowerCase())) continue;
    for (const group of parseRelations(f.value)) for (const a of group) if (a.name !== null) names.add(a.name);
  }
  return [...names];
}
