package trnsim.isa;

import java.util.Locale;

/**
 * Element types. {@link #rateKey()} names the tensor-engine throughput class used in hardware
 * configs ({@code dtype_rates}); both fp8 encodings share the {@code fp8} rate.
 */
public enum DType {
  FP32(32, "fp32"),
  TF32(32, "tf32"),
  BF16(16, "bf16"),
  FP16(16, "fp16"),
  FP8_E4M3(8, "fp8"),
  FP8_E5M2(8, "fp8"),
  MXFP8(8, "mxfp8"),
  MXFP4(4, "mxfp4"),
  INT32(32, "int32"),
  INT8(8, "int8");

  private final int bits;
  private final String rateKey;

  DType(int bits, String rateKey) {
    this.bits = bits;
    this.rateKey = rateKey;
  }

  public int bits() {
    return bits;
  }

  /** Bytes for {@code elements} elements, rounded up to whole bytes. */
  public long bytes(long elements) {
    long bitsTotal = Math.multiplyExact(elements, (long) bits);
    return bitsTotal / 8 + (bitsTotal % 8 == 0 ? 0 : 1);
  }

  public String rateKey() {
    return rateKey;
  }

  /** True for 16-bit and narrower types, which the vector engines process in their fast modes. */
  public boolean isNarrow() {
    return bits <= 16;
  }

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses user spellings: bf16, fp16, fp32, tf32, fp8 (= e4m3), fp8_e4m3, fp8_e5m2, mxfp8, mxfp4. */
  public static DType parse(String s) {
    String k = s.trim().toLowerCase(Locale.ROOT).replace('-', '_');
    return switch (k) {
      case "fp8", "e4m3", "fp8e4m3" -> FP8_E4M3;
      case "e5m2", "fp8e5m2" -> FP8_E5M2;
      case "float32", "f32" -> FP32;
      case "bfloat16" -> BF16;
      case "float16", "half", "f16" -> FP16;
      default -> {
        for (DType d : values()) {
          if (d.label().equals(k)) {
            yield d;
          }
        }
        throw new IllegalArgumentException("unknown dtype '" + s + "' (bf16, fp16, fp32, tf32, fp8, fp8_e4m3, fp8_e5m2, mxfp8, mxfp4)");
      }
    };
  }
}
