/**
 * The proximal (damped) response in float64: both stages re-solved with the damping as a
 * proximal term toward the saved weights — the quantity the damped influence function
 * I(z, xt) with (H + λI)⁻¹ is the first-order derivative of. Used by the tests of the
 * leave-one-out check's `proximal` objective.
 */
import { gather, matMul, matVec } from './denseLinearAlgebra';
import type { Evaluation } from './float64Net';
import type { ReferenceWorkspace } from './referenceWorkspace';
import { newtonMinimize, type NewtonOptions, type Objective } from './retrain';

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

/**
 * The objective minus gᵀ(x − c), g the gradient of `anchor` (the same objective with
 * nothing removed) at c: c is then a stationary point of `anchor` (the `response`
 * objective's anchor at the saved weights). `objective` itself when `on` is false.
 */
function anchoredAt(objective: Objective, anchor: Objective, center: Float64Array, on: boolean): Objective {
  if (!on) return objective;
  const g = anchor(center, 2).gradient as Float64Array;
  return (x, order) => {
    const e = objective(x, order);
    let value = e.value;
    for (let i = 0; i < x.length; i++) value -= (g[i] as number) * ((x[i] as number) - (center[i] as number));
    return { ...e, value, ...(e.gradient ? { gradient: e.gradient.map((v, i) => v - (g[i] as number)) } : {}) };
  };
}

/**
 * Φ(x) = ½‖∇L(x)‖² + (μ/2)‖x − c‖² of a stage objective L, with ∇Φ = H∇L + μ(x − c) and
 * the Gauss–Newton Hessian H² + μI (the term Σ_k ∂_kL ∇²∂_kL, small near a stationary point
 * of L, only slows Levenberg–Marquardt down; the minimiser found is exact): the `stationary`
 * response of the squared damping form.
 */
function stationarity(stage: Objective, mu: number, center: Float64Array): Objective {
  return (x, order) => {
    const e = stage(x, 2);
    const g = e.gradient as Float64Array;
    const h = e.hessian as Float64Array;
    const n = x.length;
    let value = 0;
    for (let i = 0; i < n; i++) value += 0.5 * (g[i] as number) ** 2 + 0.5 * mu * ((x[i] as number) - (center[i] as number)) ** 2;
    if (order === 0) return { value };
    const gradient = matVec(h, n, n, g).map((v, i) => v + mu * ((x[i] as number) - (center[i] as number)));
    const hessian = matMul(h, h, n);
    for (let i = 0; i < n; i++) hessian[i * n + i] = (hessian[i * n + i] as number) + mu;
    return { value, gradient, hessian };
  };
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
  /** Subtract each stage's gradient at the saved weights (with nothing removed, W = W̄): the `response` objective. */
  readonly anchored?: boolean;
  /** Minimise ½‖∇(stage objective)‖² + (μ/2)‖θ − θ_saved‖² instead (the squared form's response; needs `anchored`). */
  readonly stationary?: boolean;
}

/**
 * Σ_t f(xt) after re-solving, from the saved weights,
 * (W̄′, Ū′) = argmin G + ε g(z) + (μ_p/2)‖θ − θ̄‖², then Case 1: Θ′ = argmin F(W̄′, Θ) + (μ_f/2)‖Θ − Θ*‖²,
 * Case 2: (W′, Θ′) = argmin F(W, Θ) + α‖W − W̄′‖² + (μ_f/2)‖(W, Θ) − (W*, Θ*)‖².
 */
export function proximalRetrainedTestLoss(ws: ReferenceWorkspace, o: ProximalRetrainOptions): number {
  const { pretrain, finetune } = ws;
  const m = pretrain.train.length;
  const anchored = o.anchored === true;
  const stationary = o.stationary === true;
  // Stationary: the stage objectives carry no μ; it goes to Φ's proximal term.
  const preMu = stationary ? 0 : o.pretrainProximal;
  const finMu = stationary ? 0 : o.finetuneProximal;
  const solve = (stage: Objective, mu: number, center: Float64Array) => newtonMinimize(stationary ? stationarity(stage, mu, center) : stage, center, o);
  const pretrainObjective = (weights: Float64Array): Objective => (x, order) =>
    withProximal(pretrain.net.evaluate(x, pretrain.train, order, weights), x, preMu, pretrain.savedParams);
  const unperturbed = new Float64Array(m).fill(1 / m);
  const weights = Float64Array.from(unperturbed);
  weights[o.pretrainIndex] = (weights[o.pretrainIndex] as number) + o.epsilon;
  const pre = solve(anchoredAt(pretrainObjective(weights), pretrainObjective(unperturbed), pretrain.savedParams, anchored), o.pretrainProximal, pretrain.savedParams);
  const wBarSaved = gather(pretrain.savedParams, ws.sharedInPretrain);
  const wBar = gather(pre.params, ws.sharedInPretrain);
  const saved = finetune.savedParams;
  let params: Float64Array;
  if (o.case === 'fixed') {
    const theta = ws.otherInFinetune;
    const full = Float64Array.from(saved);
    ws.sharedInFinetune.forEach((p, i) => (full[p] = wBar[i] as number));
    const P = finetune.net.paramCount;
    const k = theta.length;
    // F(W, Θ) over Θ with W given, plus the proximal term on Θ.
    const thetaObjective = (w: Float64Array): Objective => {
      const at = Float64Array.from(saved);
      ws.sharedInFinetune.forEach((p, i) => (at[p] = w[i] as number));
      return (sub, order) => {
        theta.forEach((p, i) => (at[p] = sub[i] as number));
        const e = finetune.net.evaluate(at, finetune.train, order);
        const h = e.hessian;
        const hs = h ? new Float64Array(k * k) : undefined;
        if (h && hs) theta.forEach((r, i) => theta.forEach((c, j) => (hs[i * k + j] = h[r * P + c] as number)));
        const reduced: Evaluation = { value: e.value, ...(e.gradient ? { gradient: gather(e.gradient, theta) } : {}), ...(hs ? { hessian: hs } : {}) };
        return withProximal(reduced, sub, finMu, gather(saved, theta));
      };
    };
    const thetaSaved = gather(saved, theta);
    const fin = solve(anchoredAt(thetaObjective(wBar), thetaObjective(wBarSaved), thetaSaved, anchored), o.finetuneProximal, thetaSaved);
    theta.forEach((p, i) => (full[p] = fin.params[i] as number));
    params = full;
  } else {
    // α‖W − W̄′‖² is (μ/2)‖…‖² with μ = 2α.
    const surrogate = (w: Float64Array): Objective => (x, order) =>
      withProximal(withProximal(finetune.net.evaluate(x, finetune.train, order), x, 2 * o.alpha, w, ws.sharedInFinetune), x, finMu, saved);
    params = solve(anchoredAt(surrogate(wBar), surrogate(wBarSaved), saved, anchored), o.finetuneProximal, saved).params;
  }
  let loss = 0;
  for (const t of o.testIndices) {
    const example = finetune.test[t];
    if (example === undefined) throw new RangeError(`test point ${t} does not exist`);
    loss += finetune.net.exampleLoss(params, example);
  }
  return loss;
}
