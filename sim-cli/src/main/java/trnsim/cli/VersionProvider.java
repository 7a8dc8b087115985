package trnsim.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine;

/** Reads the version that Maven filtered into {@code trnsim-version.properties}. */
public final class VersionProvider implements CommandLine.IVersionProvider {
  @Override
  public String[] getVersion() throws IOException {
    Properties p = new Properties();
    try (InputStream in = VersionProvider.class.getResourceAsStream("/trnsim-version.properties")) {
      if (in != null) {
        p.load(in);
      }
    }
    return new String[] {"trnsim " + p.getProperty("version", "unknown"),
        "Java " + System.getProperty("java.version")};
  }
}
