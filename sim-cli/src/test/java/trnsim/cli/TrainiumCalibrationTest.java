package trnsim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The mapping from published Trainium records to trnsim probes, checked against the records themselves. */
class TrainiumCalibrationTest {
  static final Path SET = CliHarness.HOME.resolve("calibration").resolve("trainium");

  static final java.util.Set<String> MODELS = java.util.Set.of("llama3-8b", "llama2-7b", "gpt3-6.7b", "llama3-70b",
      "llama2-13b", "mistral-7b", "codellama-13b");

  @TempDir
  Path tmp;

  @Test
  void publishedModelNamesResolveToShippedShapes() {
    assertThat(TrainiumCalibration.modelName("Llama-3-8B", MODELS)).isEqualTo("llama3-8b");
    assertThat(TrainiumCalibration.modelName("Llama-3.1-8B", MODELS)).isEqualTo("llama3-8b");
    assertThat(TrainiumCalibration.modelName("meta-llama/Meta-Llama-3-8B", MODELS)).isEqualTo("llama3-8b");
    assertThat(TrainiumCalibration.modelName("meta-llama/Llama-3.1-70B-Instruct", MODELS)).isEqualTo("llama3-70b");
    assertThat(TrainiumCalibration.modelName("Llama-2-7b", MODELS)).isEqualTo("llama2-7b");
    assertThat(TrainiumCalibration.modelName("meta-llama/Llama-2-13b-chat-hf", MODELS)).isEqualTo("llama2-13b");
    assertThat(TrainiumCalibration.modelName("mistralai/Mistral-7B-Instruct-v0.2", MODELS)).isEqualTo("mistral-7b");
    assertThat(TrainiumCalibration.modelName("CodeLlama-13b-hf", MODELS)).isEqualTo("codellama-13b");
    assertThat(TrainiumCalibration.modelName("GPT3-6.7B", MODELS)).isEqualTo("gpt3-6.7b");
    assertThat(TrainiumCalibration.modelName("BERT-large", MODELS)).isNull();
  }

  @Test
  void everyShippedRecordMapsToAProbeOfItsKind() {
    List<TrainiumCalibration.Case> cases = TrainiumCalibration.load(SET, MODELS);
    assertThat(cases).hasSize(69);
    assertThat(cases).allSatisfy(c -> {
      assertThat(c.unexpressible()).as(c.id()).isNull();
      assertThat(TrainiumCalibration.GROUPS).as(c.id()).contains(c.group());
    });
    Map<String, Long> perGroup = cases.stream().collect(Collectors.groupingBy(TrainiumCalibration.Case::group, Collectors.counting()));
    // The README's table: 4 gemm + 21 mamba kernels, 16 collectives, 24 inference (8 per metric), 3 training, 1 EFA latency.
    assertThat(perGroup).containsEntry("kernels", 25L).containsEntry("collectives", 16L).containsEntry("inference TTFT", 8L)
        .containsEntry("inference TPOT", 8L).containsEntry("inference throughput", 8L).containsEntry("training", 3L)
        .containsEntry("network", 1L);
  }

  @Test
  void recordsBecomeTheWorkloadsTheirSourcesDescribe() {
    Map<String, TrainiumCalibration.Case> byId = TrainiumCalibration.load(SET, MODELS).stream()
        .collect(Collectors.toMap(TrainiumCalibration.Case::id, c -> c));
    var v4 = (TrainiumCalibration.Kernel) byId.get("trn1-nki-gemm-4096x8192x8192-bf16-fully-optimized").probe();
    assertThat(v4.hardware()).isEqualTo("trn1");
    assertThat(v4.workload()).isEqualTo(
        "gemm:m=4096,k=8192,n=8192,dtype=bf16,cores=1,strategy=block_k,block_m=2048,block_n=1024,block_k=1024");
    var ar = (TrainiumCalibration.Collective) byId.get("trn1-nccom-allr-2r-uint8-33554432B").probe();
    assertThat(ar.dtype()).isEqualTo("uint8"); // nccom-test without --datatype
    assertThat(ar.ranks()).isEqualTo(2);
    assertThat(ar.hardware()).isEqualTo("trn1-32xl");
    var tpot = (TrainiumCalibration.SystemStep) byId.get("trn1-inf-llama-3-8b-tp32-bs8-in4096-out4096-throughput-tpot").probe();
    assertThat(tpot.workload()).isEqualTo(
        "llm-infer:model=llama3-8b,phase=decode,tp=32,batch=8,prompt=4096,output=4096,max_seq=8192,weights=int8,lnc=1");
    var train = (TrainiumCalibration.SystemStep) byId.get("trn1-train-llama3.1-8b-nxd-32n-tp32-dp32").probe();
    assertThat(train.workload()).isEqualTo(
        "llm-train:model=llama3-8b,framework=nxd,tp=32,pp=1,dp=32,mbs=1,seq=8192,global_batch=1024,zero=1,systems=32,lnc=1");
    var gpt = (TrainiumCalibration.SystemStep) byId.get("trn1-train-gpt3-6.7b-megatronlm-1n-tp8-dp4").probe();
    assertThat(gpt.workload()).startsWith("llm-train:model=gpt3-6.7b,framework=megatron-neuron,tp=8,pp=1,dp=4,");
    assertThat(train.sequences()).isEqualTo(1024);
    var efa = (TrainiumCalibration.Link) byId.get("trn2-efa-ib-write-lat-hbm-to-hbm").probe();
    assertThat(efa.hardware()).isEqualTo("trn2-48xl");
    assertThat(efa.systems()).isEqualTo(2);
  }

  @Test
  void malformedRecordIsOneLineNamingFileRecordAndField() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("bad"));
    Files.writeString(dir.resolve("measurements.json"),
        "[{\"id\":\"x1\",\"kind\":\"gemm\",\"unit\":\"ms\",\"value\":-3,\"hardware\":{},\"params\":{}}]");
    var r = CliHarness.run("validate", "--calibration", dir.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().strip().lines()).hasSize(1);
    assertThat(r.err()).contains("measurements.json").contains("record x1").contains("value");
    Files.writeString(dir.resolve("measurements.json"), "{not json");
    var garbage = CliHarness.run("validate", "--calibration", dir.toString());
    assertThat(garbage.code()).isEqualTo(2);
    assertThat(garbage.err().strip().lines()).hasSize(1);
    assertThat(garbage.err()).contains("measurements.json").doesNotContain("Exception");
  }

  @Test
  void fitsNameExistingRecordsAndMarkThemFitted() throws Exception {
    java.util.Set<String> ids = TrainiumCalibration.load(SET, MODELS).stream().map(TrainiumCalibration.Case::id)
        .collect(Collectors.toSet());
    List<TrainiumCalibration.Fit> fits = TrainiumCalibration.fits(SET, ids);
    assertThat(fits).isNotEmpty().allSatisfy(f -> assertThat(ids).containsAll(f.records()));
    Path dir = Files.createDirectories(tmp.resolve("fits"));
    Files.copy(SET.resolve("measurements.json"), dir.resolve("measurements.json"));
    Files.writeString(dir.resolve("fitted.yaml"), "fitted:\n  - parameter: x\n    config: trn1\n    value: '1'\n"
        + "    records: [no-such-record]\n    how: test\n");
    var r = CliHarness.run("validate", "--calibration", dir.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().strip().lines()).hasSize(1);
    assertThat(r.err()).contains("fitted.yaml").contains("no-such-record");
  }
}
