import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as k from '@kiln/tensor';
import type { Tensor } from '@kiln/tensor';
import { skip } from '@kiln/policy';
import { compile } from '../src/compile.js';
import { captureLogs } from './support/tracer.js';

const Restart = suite('log tags of a restarted analysis');

function note(_t: Tensor): void {}
skip(note);

Restart('the break is tagged [frame/compile]; the graph re-traced up to it [frame/compile_1]', () => {
  function split(x: Tensor) {
    const h = x.mul(2);
    note(h);
    return h.add(1);
  }
  const lines = captureLogs('graph_breaks,graph', () => compile(split)(k.ones([3])));
  const breakLine = lines.find((l) => l.includes('graph_breaks') && l.includes("'split'"));
  const graphLine = lines.find((l) => l.includes("graph before the break in 'split'"));
  assert.ok(breakLine, lines.join('\n'));
  assert.ok(graphLine, lines.join('\n'));
  const [, frame] = /\[(\d+)\/0\] graph_breaks/.exec(breakLine!) ?? [];
  assert.ok(frame !== undefined, breakLine);
  assert.ok(graphLine!.includes(`[${frame}/0_1]`), graphLine);
});

Restart.run();
