import { join } from 'node:path';
import { goldenChecker } from '../../../test-support/golden.js';

export const assertGolden = goldenChecker(join(import.meta.dirname, 'fixtures'));
