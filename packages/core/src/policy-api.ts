// The policy controls users reach through @kiln/core (as torch.compiler.allow_in_graph and friends):
// they act on the process-wide policy every compile() consults.
export { allowInGraph, disallowInGraph, inline, skip, substitute, decide } from '@kiln/policy';
