package trnsim.core.scalesim;

/**
 * A SCALE-Sim architecture file ({@code .cfg}): the keys trnsim reads from {@code [general]},
 * {@code [architecture_presets]} and {@code [run_presets]}. Other keys (offsets, banks, layout and
 * sparsity sections of later versions) are accepted and ignored.
 *
 * @param runName {@code run_name}: the output folder's name
 * @param rows {@code ArrayHeight}
 * @param cols {@code ArrayWidth}
 * @param ifmapSramKb {@code IfmapSramSzkB}
 * @param filterSramKb {@code FilterSramSzkB}
 * @param ofmapSramKb {@code OfmapSramSzkB}
 * @param dataflow {@code Dataflow}: ws, os or is
 */
public record ScaleSimConfig(String runName, int rows, int cols, long ifmapSramKb, long filterSramKb, long ofmapSramKb,
    SystolicDataflow dataflow) {}
