/**
 * The retraining objective of a leave-one-out check in words, for the CLI summary and the
 * validate panel (imports nothing: the webview bundles it).
 */

/** One line saying what the retraining minimised (CLI summary and panel). */
export function retrainObjectiveText(rt: { readonly objective: string; readonly response?: string; readonly proximal: { readonly pretrain: number; readonly finetune: number } }): string {
  const damping = `λ_p ${rt.proximal.pretrain}, λ_f ${rt.proximal.finetune}`;
  switch (rt.objective) {
    case 'response':
      if (rt.response === 'stationary') return `stationary response at the saved weights, for the squared damping form (each stage: ½‖∇(objective minus its gradient there)‖² + (λ/2)‖θ − θ_saved‖², ${damping})`;
      return `damped response at the saved weights (each stage plus (λ/2)‖θ − θ_saved‖² minus its gradient there, ${damping})`;
    case 'proximal':
      return `proximal objective (each stage plus (λ/2)‖θ − θ_saved‖², ${damping})`;
    default:
      return 'plain objective (true leave-one-out)';
  }
}
