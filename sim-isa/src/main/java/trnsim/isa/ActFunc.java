package trnsim.isa;

/** Functions of the activation (scalar) engine, applied as {@code func(in * scale + bias)}. */
public enum ActFunc {
  IDENTITY, EXP, GELU, SILU, SIGMOID, TANH, RELU, SQUARE, RSQRT, RECIPROCAL
}
