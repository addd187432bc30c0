// Assembles a wasm module: one imported memory (the runtime's arena), functions, exports. Type entries are
// deduplicated by signature.
import { ByteWriter } from './encoding.js';
import { FunctionBuilder } from './function.js';
import { VALTYPE, type ValType } from './opcodes.js';

export const MEMORY_IMPORT = { module: 'env', name: 'memory' } as const;

export interface MemoryImport {
  /** A shared memory (for threads) must declare its maximum size, in 64 KiB pages. */
  readonly shared?: { readonly maximumPages: number };
}

export class ModuleBuilder {
  private readonly functions: FunctionBuilder[] = [];
  private readonly exports = new Map<string, number>();
  private readonly helpers = new Map<string, number>();

  constructor(private readonly memory: MemoryImport = {}) {}

  /** Adds a function; its index is its position (we import no functions). */
  addFunction(f: FunctionBuilder, exported = false): number {
    const index = this.functions.length;
    this.functions.push(f);
    if (exported) this.exports.set(f.name, index);
    return index;
  }

  /**
   * The index of the module's helper function `key`, built and added on first use: code several kernels
   * share (the matmul core) is generated and compiled once per module instead of once per kernel.
   */
  helper(key: string, build: () => FunctionBuilder): number {
    let index = this.helpers.get(key);
    if (index === undefined) this.helpers.set(key, (index = this.addFunction(build())));
    return index;
  }

  /** Whether some function may set the eager-recompute flag (codegen/imprecise.ts). */
  get setsImpreciseFlag(): boolean {
    return this.functions.some((f) => f.setsImpreciseFlag);
  }

  /** The index the next added function will get, so recursive helpers can call each other. */
  get nextFunctionIndex(): number {
    return this.functions.length;
  }

  encode(): Uint8Array {
    const out = new ByteWriter().bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    const sigKey = (f: FunctionBuilder) => `${f.paramTypes.join(',')}->${f.resultTypes.join(',')}`;
    const sigs = new Map<string, number>();
    const sigOf: number[] = [];
    const types = new ByteWriter();
    const typeEntries: FunctionBuilder[] = [];
    for (const f of this.functions) {
      const key = sigKey(f);
      if (!sigs.has(key)) {
        sigs.set(key, typeEntries.length);
        typeEntries.push(f);
      }
      sigOf.push(sigs.get(key)!);
    }
    types.u32(typeEntries.length);
    for (const f of typeEntries) {
      types.byte(0x60).u32(f.paramTypes.length);
      for (const t of f.paramTypes) types.byte(VALTYPE[t as ValType]);
      types.u32(f.resultTypes.length);
      for (const t of f.resultTypes) types.byte(VALTYPE[t as ValType]);
    }
    section(out, 1, types);

    const imports = new ByteWriter().u32(1).name(MEMORY_IMPORT.module).name(MEMORY_IMPORT.name);
    if (this.memory.shared) imports.byte(0x02).byte(0x03).u32(1).u32(this.memory.shared.maximumPages); // shared, min 1, max
    else imports.byte(0x02).byte(0x00).u32(1); // memory, limits: min 1 page, no max
    section(out, 2, imports);

    const funcs = new ByteWriter().u32(sigOf.length);
    for (const s of sigOf) funcs.u32(s);
    section(out, 3, funcs);

    const exps = new ByteWriter().u32(this.exports.size);
    for (const [name, index] of this.exports) exps.name(name).byte(0x00).u32(index);
    section(out, 7, exps);

    const code = new ByteWriter().u32(this.functions.length);
    for (const f of this.functions) {
      const body = f.encodeBody();
      code.u32(body.length).bytes(body);
    }
    section(out, 10, code);
    return out.finish();
  }
}

function section(out: ByteWriter, id: number, content: ByteWriter): void {
  out.byte(id).sized(content);
}

export { FunctionBuilder, VALTYPE };
