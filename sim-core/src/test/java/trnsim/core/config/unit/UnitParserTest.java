package trnsim.core.config.unit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class UnitParserTest {
  @ParameterizedTest
  @CsvSource({
      "28 MiB, 29360128",
      "28MiB, 29360128",
      "1 KiB, 1024",
      "1.5 KiB, 1536",
      "96 GiB, 103079215104",
      "2 kB, 2000",
      "1 TB, 1000000000000",
      "4_096 B, 4096",
      "1048576, 1048576",
      "4_096, 4096",
  })
  void sizes(String text, long bytes) {
    assertThat(DataSize.parse(text).bytes()).isEqualTo(bytes);
  }

  @Test
  void frequenciesAreExactHertz() {
    assertThat(Frequency.parse("2.4 GHz").hertz()).isEqualTo(2_400_000_000L);
    assertThat(Frequency.parse("960 MHz").hertz()).isEqualTo(960_000_000L);
    assertThat(Frequency.parse("0.96 GHz")).isEqualTo(Frequency.parse("960 MHz"));
  }

  @Test
  void bandwidthAcceptsBytesAndBits() {
    assertThat(Bandwidth.parse("2.9 TB/s").bytesPerSecond()).isEqualTo(2_900_000_000_000L);
    assertThat(Bandwidth.parse("23 GB/s").bytesPerSecond()).isEqualTo(23_000_000_000L);
    // 200 Gbps is 25 GB/s at 8 bits per byte.
    assertThat(Bandwidth.parse("200 Gbps").bytesPerSecond()).isEqualTo(25_000_000_000L);
    assertThat(Bandwidth.parse("1 GiB/s").bytesPerSecond()).isEqualTo(1L << 30);
  }

  @Test
  void durationsInPicoseconds() {
    assertThat(TimeSpan.parse("1.3 us").picoseconds()).isEqualTo(1_300_000L);
    assertThat(TimeSpan.parse("1.3 µs").picoseconds()).isEqualTo(1_300_000L);
    assertThat(TimeSpan.parse("15 ns").picoseconds()).isEqualTo(15_000L);
    assertThat(TimeSpan.parse("0 ns").picoseconds()).isZero();
    assertThat(TimeSpan.parse("2 s").seconds()).isEqualTo(2.0);
  }

  @Test
  void power() {
    assertThat(Power.parse("500 W").watts()).isEqualTo(500.0);
    assertThat(Power.parse("1.2 kW").milliwatts()).isEqualTo(1_200_000L);
  }

  @Test
  void negativeSizeRejected() {
    assertThatThrownBy(() -> DataSize.parse("-3 GiB")).hasMessage("size must not be negative");
  }

  @Test
  void zeroSizeRejected() {
    assertThatThrownBy(() -> DataSize.parse("0 MiB")).hasMessage("size must be greater than zero");
  }

  @Test
  void frequencyWhereSizeExpected() {
    assertThatThrownBy(() -> DataSize.parse("2.4 GHz"))
        .hasMessageContaining("'GHz' is not a size unit");
  }

  @Test
  void overflowIsDetectedNotWrapped() {
    // 2^63 bytes is 8 EiB = 8388608 TiB; one more TiB overflows a signed long.
    assertThatThrownBy(() -> DataSize.parse("8388608 TiB")).hasMessageContaining("too large");
    assertThat(DataSize.parse("8388607 TiB").bytes()).isEqualTo(8388607L << 40);
    assertThatThrownBy(() -> TimeSpan.parse("1e10 s")).hasMessageContaining("too large");
    assertThatThrownBy(() -> DataSize.parse("1e400 B")).hasMessageContaining("too large");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "  ", "MiB", "abc", "3.5", "1e6", "3.3.3 MiB", "\uff11\uff10 MiB", "\uff11\uff10", "- MiB", "1e MiB", "NaN B", "Infinity B"})
  void nonsenseRejected(String text) {
    assertThatThrownBy(() -> DataSize.parse(text)).isInstanceOf(UnitException.class);
  }

  @Test
  void aBareNumberIsBytesForSizesOnlyAndOtherQuantitiesSayWhichUnitToWrite() {
    // One rule: a bare whole number is bytes; k/M/G/T are powers of 1000 and Ki/Mi/Gi/Ti of 1024.
    assertThat(DataSize.parse("1000").bytes()).isEqualTo(DataSize.parse("1 kB").bytes());
    assertThat(DataSize.parse("1024").bytes()).isEqualTo(DataSize.parse("1 KiB").bytes());
    assertThatThrownBy(() -> Frequency.parse("2400000000")).hasMessage("missing unit for a frequency; expected something like '2.4 GHz'");
    assertThatThrownBy(() -> Bandwidth.parse("1000")).hasMessageContaining("missing unit for a bandwidth");
    assertThatThrownBy(() -> TimeSpan.parse("5")).hasMessageContaining("missing unit");
  }

  @Test
  void aMegabyteNumberIsRefusedAtOnce() {
    String huge = "1".repeat(1 << 20) + " MiB";
    assertThatThrownBy(() -> DataSize.parse(huge)).hasMessage("not a size (1048580 characters); expected something like '28 MiB'");
  }

  @Test
  void fractionalBytesRoundToNearest() {
    assertThat(DataSize.parse("1.4 B").bytes()).isEqualTo(1);
    assertThatThrownBy(() -> DataSize.parse("0.2 B")).hasMessageContaining("rounds to zero");
  }

  @Test
  void formattingRoundTrips() {
    for (String s : new String[] {"28 MiB", "96 GiB", "2.9 TB/s", "2.4 GHz", "850 ns", "500 W"}) {
      Object parsed = switch (s.substring(s.indexOf(' ') + 1)) {
        case "MiB", "GiB" -> DataSize.parse(s);
        case "TB/s" -> Bandwidth.parse(s);
        case "GHz" -> Frequency.parse(s);
        case "ns" -> TimeSpan.parse(s);
        default -> Power.parse(s);
      };
      assertThat(parsed.toString()).isEqualTo(s);
    }
  }
}
