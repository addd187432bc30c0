import type { AuditReport } from '../types.js';

/** The report object as stable, pretty JSON (for tools; the other formats render the same object). */
export const formatJson = (report: AuditReport): string => JSON.stringify(report, null, 2) + '\n';
