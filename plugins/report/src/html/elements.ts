// Small builders for the report's HTML. A cell or block given as a string is text and is escaped; markup
// built here is passed as `{ html }`, so nothing the user wrote can reach the page unescaped.
import { escapeXml } from '../escape.js';

export type Content = string | { readonly html: string };

export const html = (markup: string): Content => ({ html: markup });
export const render = (c: Content): string => (typeof c === 'string' ? escapeXml(c) : c.html);

/**
 * A table that fits the page: fixed layout, column widths in percent (the last column takes the rest),
 * long cells wrap instead of widening the table.
 */
export function table(headers: readonly string[], rows: readonly (readonly Content[])[], widths: readonly number[] = []): string {
  const cols = headers.map((_, i) => (widths[i] ? `<col style="width:${widths[i]}%">` : '<col>')).join('');
  const head = headers.map((h) => `<th>${escapeXml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${render(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table><colgroup>${cols}</colgroup><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** Preformatted text, scrollable inside its box. */
export const pre = (text: string, cls = ''): string => `<pre${cls ? ` class="${cls}"` : ''}>${escapeXml(text)}</pre>`;

/** A collapsible block (closed unless `open`). */
export const details = (summary: string, body: string, open = false): string =>
  `<details${open ? ' open' : ''}><summary>${escapeXml(summary)}</summary>${body}</details>`;

/** A plain-text status mark (`OK`, `BREAK`, `EAGER`): words, not symbols, so every font shows them. */
export const mark = (text: string, kind: 'ok' | 'warn' | 'bad' | 'info'): string => `<span class="mark mark-${kind}">${escapeXml(text)}</span>`;

export const ms = (v: number | undefined): string => (v === undefined ? '' : v.toFixed(1));

/** Cuts long text at `maxLines`, saying how much was left out. */
export function clipLines(text: string, maxLines: number): string {
  const lines = text.split('\n');
  return lines.length <= maxLines ? text : `${lines.slice(0, maxLines).join('\n')}\n... ${lines.length - maxLines} more lines`;
}

export const STYLE = `
* { box-sizing: border-box; }
body { font: 14px/1.45 "DejaVu Sans", system-ui, sans-serif; color: #1f2937; margin: 0 auto; padding: 12px 20px 40px; max-width: 1400px; overflow-wrap: anywhere; }
h1 { font-size: 22px; margin: 8px 0; } h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 2px solid #cbd5e1; }
h3 { font-size: 15px; margin: 16px 0 6px; }
.meta { color: #475569; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; margin: 6px 0 12px; }
th, td { border: 1px solid #cbd5e1; padding: 3px 6px; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
th { background: #f1f5f9; }
code, pre, .mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; }
pre { background: #f8fafc; border: 1px solid #e2e8f0; padding: 6px 8px; overflow: auto; max-height: 520px; white-space: pre; margin: 4px 0 10px; }
.picture { overflow: auto; max-height: 900px; border: 1px solid #e2e8f0; margin: 4px 0; }
.picture svg { display: block; }
.legend span { display: inline-block; padding: 0 6px; margin-right: 6px; border: 1px solid #1f2937; border-radius: 3px; font-size: 12px; }
.mark { display: inline-block; padding: 0 6px; border-radius: 3px; font-weight: bold; font-size: 12px; }
.mark-ok { background: #dcfce7; color: #14532d; } .mark-warn { background: #fef3c7; color: #78350f; }
.mark-bad { background: #fee2e2; color: #7f1d1d; } .mark-info { background: #e0e7ff; color: #1e3a8a; }
.compile { border-top: 1px solid #e2e8f0; margin-top: 24px; }
ul.trie, ul.trie ul { list-style: none; padding-left: 18px; margin: 2px 0; }
ul.trie { padding-left: 0; }
ul.trie li::before { content: "- "; color: #94a3b8; }
details > summary { cursor: pointer; color: #1e40af; }
`;
