package trnsim.isa;

/** Element-wise and reduction operators of the vector engines. */
public enum AluOp {
  ADD, SUBTRACT, MULTIPLY, DIVIDE, MAX, MIN, BYPASS
}
