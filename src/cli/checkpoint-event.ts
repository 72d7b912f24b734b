/**
 * The audit event of every checkpoint write (checkpoints.ts), on its own so that `ca status`
 * (status-trust.ts), which only reads those records, does not import the checkpoint writer and
 * with it the card stack, the transcript templates (handlebars) and the issuance engine: that
 * chain was 160 of the 364 modules `ca status` loaded (docs/benchmarks.md, "Reads at 1,000,000,
 * third pass"). Imports nothing.
 */
export const CHECKPOINT_EVENT = 'checkpoint.written';
