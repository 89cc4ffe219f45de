// DepthToSpace and SpaceToDepth (pixel shuffle): every output entry is one input entry, each read
// once, in both DCR and CRD orders: a permutation, constant 1.

import { SELECTS, structural } from '../../../analysis/constants';
import { formatShape, type OpHandler } from '../context';

function shuffle(toSpace: boolean): OpHandler {
  return {
    infer(ctx) {
      const x = ctx.dynamic(0);
      const block = ctx.attrs.int('blocksize', 0);
      if (x.length !== 4 || block < 1) ctx.fail(`expects an N, C, H, W input and a blocksize, gets ${formatShape(x)} and ${block}`);
      const [n, c, h, w] = x;
      const out = toSpace ? [n, c / (block * block), h * block, w * block] : [n, c * block * block, h / block, w / block];
      if (!out.every(Number.isInteger)) ctx.fail(`blocksize ${block} does not fit ${formatShape(x)}`);
      return { spec: structural(`${ctx.op}: a permutation of the entries, 1`, 1, SELECTS), outputShapes: [out], dataInputs: [0] };
    },
  };
}

export const depthToSpaceOps: Record<string, OpHandler> = {
  DepthToSpace: shuffle(true),
  SpaceToDepth: shuffle(false),
};
