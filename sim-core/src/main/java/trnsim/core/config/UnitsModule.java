package trnsim.core.config;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import java.io.IOException;
import java.util.function.Function;
import trnsim.core.config.unit.Bandwidth;
import trnsim.core.config.unit.DataSize;
import trnsim.core.config.unit.Frequency;
import trnsim.core.config.unit.Power;
import trnsim.core.config.unit.TimeSpan;
import trnsim.core.config.unit.UnitException;

/** Jackson bindings for the unit value types: parsed from strings with units, written back the same way. */
final class UnitsModule extends SimpleModule {
  private static final long serialVersionUID = 1L;

  UnitsModule() {
    super("trnsim-units");
    register(DataSize.class, DataSize::parse, "a size such as '28 MiB'");
    register(Frequency.class, Frequency::parse, "a frequency such as '2.4 GHz'");
    register(Bandwidth.class, Bandwidth::parse, "a bandwidth such as '2.9 TB/s'");
    register(TimeSpan.class, TimeSpan::parse, "a duration such as '1.3 us'");
    register(Power.class, Power::parse, "a power such as '500 W'");
  }

  private <T> void register(Class<T> type, Function<String, T> parser, String expected) {
    addDeserializer(type, new JsonDeserializer<T>() {
      @Override
      public T deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_STRING) {
          String text = p.getText();
          try {
            return parser.apply(text);
          } catch (UnitException e) {
            throw ctxt.weirdStringException(text, type, e.getMessage());
          }
        }
        if (t == JsonToken.VALUE_NUMBER_INT && type == DataSize.class) {
          // A bare whole number is bytes (the one unit rule, docs/cli.md).
          try {
            return parser.apply(p.getText());
          } catch (UnitException e) {
            throw ctxt.weirdStringException(p.getText(), type, e.getMessage());
          }
        }
        if (t == JsonToken.VALUE_NUMBER_INT || t == JsonToken.VALUE_NUMBER_FLOAT) {
          throw ctxt.weirdStringException(p.getText(), type,
              "missing unit; expected " + expected);
        }
        return (T) ctxt.handleUnexpectedToken(type, p);
      }
    });
    addSerializer(type, new JsonSerializer<T>() {
      @Override
      public void serialize(T value, JsonGenerator gen, SerializerProvider serializers) throws IOException {
        gen.writeString(value.toString());
      }
    });
  }
}
