// Float32's largest value: beyond it a value would become Infinity in the model's input.
const FLOAT32_MAX = 3.4028234663852886e38;

/** A model input that is always finite: NaN becomes 0, values beyond float32's range are held at its largest. */
export function finite(value: number): number {
  if (value !== value) return 0;
  return value > FLOAT32_MAX ? FLOAT32_MAX : value < -FLOAT32_MAX ? -FLOAT32_MAX : value;
}
