import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { placeholder } from '@kiln/pytree';
const s = suite('smoke');
s('imports', () => assert.is(placeholder, 1));
s.run();
