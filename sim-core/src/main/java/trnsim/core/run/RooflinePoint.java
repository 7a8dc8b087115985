package trnsim.core.run;

/** Where a run sits on its chip's roofline: work, traffic and time against the two ceilings. */
public interface RooflinePoint {
  double timeSeconds();

  long flops();

  double peakFlopsPerSecond();

  double hbmBytes();

  double hbmBytesPerSecondPeak();

  default double achievedFlopsPerSecond() {
    return timeSeconds() > 0 ? flops() / timeSeconds() : 0;
  }

  default double utilization() {
    return peakFlopsPerSecond() > 0 ? achievedFlopsPerSecond() / peakFlopsPerSecond() : 0;
  }

  default double achievedHbmBytesPerSecond() {
    return timeSeconds() > 0 ? hbmBytes() / timeSeconds() : 0;
  }

  /** FLOPs per HBM byte; infinite when the run moved no HBM bytes. */
  default double arithmeticIntensity() {
    return hbmBytes() > 0 ? flops() / hbmBytes() : Double.POSITIVE_INFINITY;
  }
}
