// The profile as a plain-text table: programs by total time, and under each its steps by time, with the
// ops each fused kernel computes. Columns are padded for a terminal; no symbols beyond ASCII.
import type { ProgramProfile } from './profiler.js';

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number) => (s.length >= n ? s : ' '.repeat(n - s.length) + s);
const fmt = (ms: number) => ms.toFixed(3);

function rows(table: readonly (readonly string[])[], right: ReadonlySet<number>): string[] {
  const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
  return table.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : right.has(c) ? lpad(cell, widths[c]!) : pad(cell, widths[c]!))).join('  ').trimEnd());
}

export function formatProfile(programs: readonly ProgramProfile[], topSteps: number): string {
  const ran = programs.filter((p) => p.calls > 0).sort((a, b) => b.ms - a.ms);
  const total = ran.reduce((s, p) => s + p.ms, 0);
  const calls = ran.reduce((s, p) => s + p.calls, 0);
  const lines = [`Kiln profile: ${ran.length} compiled program${ran.length === 1 ? '' : 's'} ran ${calls} time${calls === 1 ? '' : 's'}, ${fmt(total)} ms in compiled code`];
  const idle = programs.length - ran.length;
  if (idle) lines.push(`(${idle} compiled program${idle === 1 ? '' : 's'} never ran)`);
  for (const p of ran) {
    lines.push('', ...rows([
      ['program', 'backend', 'calls', 'total ms', 'mean ms', 'share'],
      [p.label, p.backend, String(p.calls), fmt(p.ms), fmt(p.ms / p.calls), `${((100 * p.ms) / (total || 1)).toFixed(1)}%`],
    ], new Set([2, 3, 4, 5])));
    const steps = [...p.steps].sort((a, b) => b.ms - a.ms);
    if (!steps.length) {
      lines.push(`  (no per-step times: ${p.stepNote})`);
      continue;
    }
    const stepMs = steps.reduce((s, x) => s + x.ms, 0);
    const shown = steps.slice(0, topSteps);
    const table = [['  step', 'kind', 'calls', 'total ms', 'mean ms', 'share', 'ops']];
    for (const s of shown) table.push([`  ${s.name}`, s.kind, String(s.calls), fmt(s.ms), fmt(s.calls ? s.ms / s.calls : 0), `${((100 * s.ms) / (stepMs || 1)).toFixed(1)}%`, s.ops.join(', ')]);
    lines.push(...rows(table, new Set([2, 3, 4, 5])));
    if (steps.length > shown.length) lines.push(`  ... ${steps.length - shown.length} more steps`);
    lines.push(`  steps: ${fmt(stepMs)} ms; the rest of the program's time (${fmt(Math.max(0, p.ms - stepMs))} ms) is copies in and out of the arena and dispatch`);
  }
  return lines.join('\n');
}
