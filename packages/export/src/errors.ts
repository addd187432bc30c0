// Export's typed errors. Every message names the input (by the user's name), the dim, or the op at fault,
// and carries a hint. Input errors share one base class so a caller can catch them together.
import { KilnError } from '@kiln/tensor';

/** exportProgram could not make a program of the function (an unsupported input, output or dims spec). */
export class ExportError extends KilnError {}

/** The dims spec and the trace disagree: a named dim was specialized, merged with another, or narrowed. */
export class ConstraintViolationError extends ExportError {}

/** Bad bytes or JSON given to loadProgram / readProgram (the file is not an exported program, or is damaged). */
export class ProgramFormatError extends KilnError {}

/** An argument of a loaded program's call does not fit the program's input specs. */
export class ProgramInputError extends KilnError {}
/** The arguments' structure (count, nesting, keys) differs from the exported one. */
export class InputStructureError extends ProgramInputError {}
/** A tensor input has another dtype than the exported one (or is not a tensor). */
export class InputDtypeError extends ProgramInputError {}
/** A tensor input has another rank than the exported one. */
export class InputRankError extends ProgramInputError {}
/** A static dim differs from its exported size. */
export class InputSizeError extends ProgramInputError {}
/** A dynamic dim lies outside its declared range. */
export class DimRangeError extends ProgramInputError {}
/** Sizes break a relation the program relies on (two dims that must be equal, `s0 < s1`, a check()). */
export class InputRelationError extends ProgramInputError {}
/**
 * An input the program writes in place shares memory with another input or state tensor (`f(x, x.T)`): the
 * eager function would see its own write through the other one, which a functional graph cannot.
 */
export class InputAliasError extends ProgramInputError {}
/** A non-tensor argument differs from the value the program was exported with (it is baked in). */
export class InputConstantError extends ProgramInputError {}

/** The ONNX writer met an op without an ONNX mapping, or a program feature ONNX cannot hold. */
export class OnnxExportError extends ExportError {}
