package trnsim.cli;

import picocli.CommandLine;
import trnsim.core.api.Version;

/** {@code trnsim --version}: the version every JSON output also carries ({@link Version}). */
public final class VersionProvider implements CommandLine.IVersionProvider {
  @Override
  public String[] getVersion() {
    return new String[] {"trnsim " + Version.current(), "Java " + System.getProperty("java.version")};
  }
}
