/**
 * max over ω of σ1(K̂(ω))², K̂(ω) = Σ_t W_t e^{−iω·t}, straight from the weights (not conv-symbol):
 * a grid search, then zooming local grids around the best point. Stride 1, no dilation, 2-D,
 * cIn = 2, so σ1² is the larger eigenvalue of the 2 × 2 Hermitian K̂ᴴK̂ = [[a, b], [conj b, d]].
 */
export function bruteForceSup(weight: Float32Array, cOut: number, k1: number, k2: number): number {
  const at = (w1: number, w2: number): number => {
    let a = 0;
    let d = 0;
    let br = 0;
    let bi = 0;
    for (let o = 0; o < cOut; o++) {
      let x0r = 0;
      let x0i = 0;
      let x1r = 0;
      let x1i = 0;
      for (let t1 = 0; t1 < k1; t1++) {
        for (let t2 = 0; t2 < k2; t2++) {
          const c = Math.cos(w1 * t1 + w2 * t2);
          const s = -Math.sin(w1 * t1 + w2 * t2);
          const u = weight[((o * 2 + 0) * k1 + t1) * k2 + t2];
          const v = weight[((o * 2 + 1) * k1 + t1) * k2 + t2];
          x0r += u * c;
          x0i += u * s;
          x1r += v * c;
          x1i += v * s;
        }
      }
      a += x0r * x0r + x0i * x0i;
      d += x1r * x1r + x1i * x1i;
      br += x0r * x1r + x0i * x1i;
      bi += x0r * x1i - x0i * x1r;
    }
    return (a + d) / 2 + Math.sqrt(((a - d) / 2) ** 2 + br * br + bi * bi);
  };
  let best = { value: -1, w1: 0, w2: 0 };
  const grid = 240;
  for (let i = 0; i < grid; i++) {
    for (let j = 0; j < grid; j++) {
      const value = at((2 * Math.PI * i) / grid, (2 * Math.PI * j) / grid);
      if (value > best.value) best = { value, w1: (2 * Math.PI * i) / grid, w2: (2 * Math.PI * j) / grid };
    }
  }
  for (let step = (2 * Math.PI) / grid; step > 1e-7; step /= 4) {
    const centre = best;
    for (let i = -4; i <= 4; i++) {
      for (let j = -4; j <= 4; j++) {
        const value = at(centre.w1 + (i * step) / 4, centre.w2 + (j * step) / 4);
        if (value > best.value) best = { value, w1: centre.w1 + (i * step) / 4, w2: centre.w2 + (j * step) / 4 };
      }
    }
  }
  return best.value;
}
