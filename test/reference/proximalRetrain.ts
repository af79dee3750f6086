/**
 * The proximal (damped) response in float64: both stages re-solved with the damping as a
 * proximal term toward the saved weights — the quantity the damped influence function
 * I(z, xt) with (H + λI)⁻¹ is the first-order derivative of. Used by the tests of the
 * leave-one-out check's `proximal` objective.
 */
import { gather } from './denseLinearAlgebra';
import type { Evaluation } from './float64Net';
import type { ReferenceWorkspace } from './referenceWorkspace';
import { newtonMinimize, type NewtonOptions } from './retrain';

/** Adds (μ/2)‖x − c‖² (on the listed positions of x, or all) to an evaluation. */
function withProximal(e: Evaluation, x: Float64Array, mu: number, center: Float64Array, positions?: readonly number[]): Evaluation {
  if (mu === 0) return e;
  const P = x.length;
  let value = e.value;
  const n = positions ? positions.length : P;
  for (let k = 0; k < n; k++) {
    const p = positions ? (positions[k] as number) : k;
    const d = (x[p] as number) - (center[k] as number);
    value += 0.5 * mu * d * d;
    if (e.gradient) e.gradient[p] = (e.gradient[p] as number) + mu * d;
    if (e.hessian) e.hessian[p * P + p] = (e.hessian[p * P + p] as number) + mu;
  }
  return { ...e, value };
}

export interface ProximalRetrainOptions extends NewtonOptions {
  /** The pretraining example whose weight changes by `epsilon` (−1/m removes it). */
  readonly pretrainIndex: number;
  readonly epsilon: number;
  readonly testIndices: readonly number[];
  readonly case: 'fixed' | 'updated';
  readonly alpha: number;
  /** μ_p, μ_f: (μ/2)‖θ − θ_saved‖² on each stage (0: plain retraining). */
  readonly pretrainProximal: number;
  readonly finetuneProximal: number;
}

/**
 * Σ_t f(xt) after re-solving, from the saved weights,
 * (W̄′, Ū′) = argmin G + ε g(z) + (μ_p/2)‖θ − θ̄‖², then Case 1: Θ′ = argmin F(W̄′, Θ) + (μ_f/2)‖Θ − Θ*‖²,
 * Case 2: (W′, Θ′) = argmin F(W, Θ) + α‖W − W̄′‖² + (μ_f/2)‖(W, Θ) − (W*, Θ*)‖².
 */
export function proximalRetrainedTestLoss(ws: ReferenceWorkspace, o: ProximalRetrainOptions): number {
  const { pretrain, finetune } = ws;
  const m = pretrain.train.length;
  const weights = new Float64Array(m).fill(1 / m);
  weights[o.pretrainIndex] = (weights[o.pretrainIndex] as number) + o.epsilon;
  const pre = newtonMinimize(
    (x, order) => withProximal(pretrain.net.evaluate(x, pretrain.train, order, weights), x, o.pretrainProximal, pretrain.savedParams),
    pretrain.savedParams,
    o,
  );
  const wBar = gather(pre.params, ws.sharedInPretrain);
  const saved = finetune.savedParams;
  let params: Float64Array;
  if (o.case === 'fixed') {
    const theta = ws.otherInFinetune;
    const full = Float64Array.from(saved);
    ws.sharedInFinetune.forEach((p, i) => (full[p] = wBar[i] as number));
    const embed = (sub: Float64Array): Float64Array => {
      theta.forEach((p, i) => (full[p] = sub[i] as number));
      return full;
    };
    const P = finetune.net.paramCount;
    const k = theta.length;
    const fin = newtonMinimize(
      (sub, order) => {
        const e = finetune.net.evaluate(embed(sub), finetune.train, order);
        const h = e.hessian;
        const hs = h ? new Float64Array(k * k) : undefined;
        if (h && hs) theta.forEach((r, i) => theta.forEach((c, j) => (hs[i * k + j] = h[r * P + c] as number)));
        const reduced: Evaluation = { value: e.value, ...(e.gradient ? { gradient: gather(e.gradient, theta) } : {}), ...(hs ? { hessian: hs } : {}) };
        return withProximal(reduced, sub, o.finetuneProximal, gather(saved, theta));
      },
      gather(saved, theta),
      o,
    );
    params = Float64Array.from(embed(fin.params));
  } else {
    params = newtonMinimize(
      (x, order) => {
        const e = finetune.net.evaluate(x, finetune.train, order);
        // α‖W − W̄′‖² is (μ/2)‖…‖² with μ = 2α.
        return withProximal(withProximal(e, x, 2 * o.alpha, wBar, ws.sharedInFinetune), x, o.finetuneProximal, saved);
      },
      saved,
      o,
    ).params;
  }
  let loss = 0;
  for (const t of o.testIndices) {
    const example = finetune.test[t];
    if (example === undefined) throw new RangeError(`test point ${t} does not exist`);
    loss += finetune.net.exampleLoss(params, example);
  }
  return loss;
}
