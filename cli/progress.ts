/**
 * One progress bar per file on a terminal; on anything else (CI logs), one plain line per file when
 * it finishes. Redraws are throttled so a fast upload does not flood the terminal.
 */
import { formatBytes, type Output } from "./output.ts";

interface Item {
  label: string;
  total: number;
  sent: number;
  note: string | undefined;
}

export class Progress {
  readonly #out: Output;
  readonly #items: Item[];
  #drawn = 0;
  #lastDraw = 0;

  constructor(out: Output, items: { label: string; total: number }[]) {
    this.#out = out;
    this.#items = items.map((i) => ({ ...i, sent: 0, note: undefined }));
  }

  /** The reporter for item `index`: bytes sent so far, and a note when it is finished. */
  bar(index: number): (sent: number, note?: string) => void {
    return (sent, note) => {
      const item = this.#items[index];
      if (item === undefined) return;
      item.sent = Math.min(sent, item.total);
      if (note !== undefined) {
        item.note = note;
        if (!this.#out.interactive) this.#out.log(`${note}: ${item.label} (${formatBytes(item.total)})`);
      }
      if (this.#out.interactive) this.#draw(note !== undefined);
    };
  }

  done(): void {
    if (this.#out.interactive) this.#draw(true);
  }

  #draw(force: boolean): void {
    const now = Date.now();
    if (!force && now - this.#lastDraw < 80) return;
    this.#lastDraw = now;
    const width = Math.max(10, Math.min(30, (this.#out.io.stderr.columns ?? 80) - 60));
    const lines = this.#items.map((item) => {
      const ratio = item.total === 0 ? 1 : item.sent / item.total;
      const filled = Math.round(ratio * width);
      const bar = `${"█".repeat(filled)}${"░".repeat(width - filled)}`;
      const label = item.label.length > 32 ? `…${item.label.slice(-31)}` : item.label.padEnd(32);
      return `${label} ${bar} ${String(Math.round(ratio * 100)).padStart(3)}% ${formatBytes(item.sent)}${item.note ? `  ${item.note}` : ""}`;
    });
    const up = this.#drawn > 0 ? `\x1b[${this.#drawn}A` : "";
    this.#out.io.stderr.write(`${up}${lines.map((l) => `\x1b[2K${l}`).join("\n")}\n`);
    this.#drawn = lines.length;
  }
}
