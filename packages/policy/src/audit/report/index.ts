export { formatMarkdown, summaryLine } from './markdown.js';
export { formatJson } from './json.js';
export { formatHtml } from './html.js';
