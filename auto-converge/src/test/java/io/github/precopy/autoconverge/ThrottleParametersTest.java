package io.github.precopy.autoconverge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

final class ThrottleParametersTest {

  @Test
  void withoutOptionsTheParametersAreQemusDefaults() {
    assertThat(ThrottleParameters.from(Map.of()))
        .isEqualTo(new ThrottleParameters(50, 20, 10, false, 99));
  }

  @Test
  void optionsUseQemusNamesAndOthersAreIgnored() {
    ThrottleParameters parameters =
        ThrottleParameters.from(
            Map.of(
                "throttle-trigger-threshold", "30",
                "cpu-throttle-initial", "5",
                "cpu-throttle-increment", " 7 ",
                "cpu-throttle-tailslow", "on",
                "max-cpu-throttle", "80",
                "xbzrle-cache-size", "64m"));

    assertThat(parameters).isEqualTo(new ThrottleParameters(30, 5, 7, true, 80));
  }

  @Test
  void aValueOutOfQemusRangeIsRefusedNamingTheParameter() {
    assertThatThrownBy(() -> ThrottleParameters.from(Map.of("max-cpu-throttle", "100")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("max-cpu-throttle 100 is not 1 to 99");
    assertThatThrownBy(() -> ThrottleParameters.from(Map.of("throttle-trigger-threshold", "0")))
        .hasMessage("throttle-trigger-threshold 0 is not 1 to 100");
    assertThatThrownBy(() -> ThrottleParameters.from(Map.of("cpu-throttle-initial", "20%")))
        .hasMessage("cpu-throttle-initial '20%' is not a whole number");
    assertThatThrownBy(() -> ThrottleParameters.from(Map.of("cpu-throttle-tailslow", "yes")))
        .hasMessage("cpu-throttle-tailslow 'yes' is not true, false, on or off");
  }
}
