/** Float64 vector helpers for the solvers (the state of CG lives in float64). */

export function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

export function norm(a: Float64Array): number {
  return Math.sqrt(dot(a, a));
}

/** y ← y + α x, in place; returns y. */
export function axpy(alpha: number, x: Float64Array, y: Float64Array): Float64Array {
  for (let i = 0; i < y.length; i++) y[i] = (y[i] as number) + alpha * (x[i] as number);
  return y;
}

/** α x + β y as a new vector. */
export function combine(alpha: number, x: Float64Array, beta: number, y: Float64Array): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = alpha * (x[i] as number) + beta * (y[i] as number);
  return out;
}

export function scale(alpha: number, x: Float64Array): Float64Array {
  return x.map((v) => alpha * v);
}
