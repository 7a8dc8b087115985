package trnsim.cli;

import java.io.Serializable;

/**
 * What the per-point function gives back: the point's row (compact JSON: a result or an error row)
 * and, when the sweep writes a run directory, its statistics tree (compact JSON, null otherwise or
 * for an error row).
 */
public record SweepOutcome(String row, String stats) implements Serializable {}
