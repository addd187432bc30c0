// Every string the report prints comes from the user's program (file names, object keys, op names, guard
// texts), so each one goes through here before it lands in HTML or SVG: text and attribute values alike.
const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML and SVG (element content and quoted attribute values). */
export function escapeXml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/** A fragment id made only of safe characters (`[1/0]` → `frame-1-0`), for links inside the report. */
export function anchorId(prefix: string, text: string): string {
  return `${prefix}-${text.replace(/[^A-Za-z0-9_]+/g, '-').replace(/^-+|-+$/g, '')}`;
}
