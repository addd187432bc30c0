// Listens to a compiler's hooks and keeps, per compile (`[frame/compile]`), what the report shows. Only
// plain data is kept (pictures, printed graphs, texts), except the backend report, whose generated code is
// printed when the report is written.
import type { BreakRecord, Compiler, ExportedProgramInfo, FrameCompileInfo, FrameEvent } from '@kiln/core';
import { printGraph } from '@kiln/graph';
import type { BackendReport } from '@kiln/lower';
import { snapshotGraph } from './picture/snapshot.js';
import type { GraphPicture } from './picture/snapshot.js';
import { userStack } from './stack.js';
import type { StackFrame } from './stack.js';

export interface CompileRecord {
  readonly tag: string;
  readonly name: string;
  /** The compiled function's `file:line`. */
  readonly location: string;
  /** Where the compile was triggered from (user frames, outermost first). */
  readonly stack: readonly StackFrame[];
  /** Start of the compile, ms since the collector started. */
  readonly startedMs: number;
  apiPicture?: GraphPicture;
  corePicture?: GraphPicture;
  coreGraphText?: string;
  /** Full source paths by file name, from the graph nodes' locations (to print guard lines). */
  readonly sourcePaths: Map<string, string>;
  readonly breaks: BreakRecord[];
  /** Set once the compile finished with a cache entry (skipped frames have none). */
  info?: FrameCompileInfo;
  backendReport?: BackendReport;
}

/** A program exported while the report listened (@kiln/export's exportProgram). */
export interface ExportRecord {
  readonly info: Omit<ExportedProgramInfo, 'graph'>;
  readonly picture: GraphPicture;
  readonly graphText: string;
}

const PLUGIN_NAME = '@kiln/plugin-report';

export class CompileCollector {
  readonly records = new Map<string, CompileRecord>();
  readonly exported: ExportRecord[] = [];
  /** Recompile-limit warnings and other misses that compiled nothing, per tag. */
  private readonly t0 = performance.now();

  /** Taps the compiler's hooks; several compilers may feed one collector. */
  attach(compiler: Compiler): void {
    const { hooks } = compiler;
    hooks.frameStart.tap(PLUGIN_NAME, (frame) => this.start(frame));
    hooks.graphCaptured.tap(PLUGIN_NAME, (graph, frame) => {
      const record = this.recordFor(frame);
      record.apiPicture = snapshotGraph(graph);
      for (const n of graph.nodes) if (n.meta.source?.path) record.sourcePaths.set(n.meta.source.file, n.meta.source.path);
    });
    hooks.graphBreak.tap(PLUGIN_NAME, (record, frame) => {
      this.recordFor(frame).breaks.push(record);
    });
    hooks.programExported.tap(PLUGIN_NAME, ({ graph, ...info }) => {
      this.exported.push({ info, picture: snapshotGraph(graph), graphText: printGraph(graph) });
    });
    hooks.frameCompiled.tap(PLUGIN_NAME, (info) => {
      const record = this.recordFor(info.frame);
      record.info = info;
      record.backendReport = info.backendReport;
      if (info.graph) {
        const eagerNodes = new Set((info.backendReport?.eagerSteps ?? []).flatMap((step) => (step.node ? [step.node] : [])));
        record.corePicture = snapshotGraph(info.graph, eagerNodes);
        record.coreGraphText = printGraph(info.graph);
      }
    });
  }

  private start(frame: FrameEvent): CompileRecord {
    const record: CompileRecord = {
      tag: frame.tag,
      name: frame.name,
      location: frame.location,
      stack: userStack(),
      startedMs: performance.now() - this.t0,
      sourcePaths: new Map(),
      breaks: [],
    };
    this.records.set(frame.tag, record);
    return record;
  }

  private recordFor(frame: FrameEvent): CompileRecord {
    return this.records.get(frame.tag) ?? this.start(frame);
  }
}
