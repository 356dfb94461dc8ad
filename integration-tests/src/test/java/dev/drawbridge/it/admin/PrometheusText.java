package dev.drawbridge.it.admin;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict reader of the Prometheus text exposition format 0.0.4: every line must be a HELP, a
 * TYPE or a sample of the family last declared, or parsing fails naming the line. What a scraper
 * would reject, this rejects.
 */
final class PrometheusText {

  /** One sample line. */
  record Sample(String name, Map<String, String> labels, double value) {}

  private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
  private static final Pattern HELP = Pattern.compile("# HELP (" + NAME + ") (.*)");
  private static final Pattern TYPE = Pattern.compile("# TYPE (" + NAME + ") (counter|gauge|histogram|summary|untyped)");
  private static final Pattern SAMPLE = Pattern.compile("(" + NAME + ")(\\{(.*)\\})? (\\S+)( -?\\d+)?");
  private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\[\\\\\"n])*)\"(,|$)");

  final Map<String, String> types = new LinkedHashMap<>();
  final List<Sample> samples = new ArrayList<>();

  static PrometheusText parse(String text) {
    PrometheusText parsed = new PrometheusText();
    String family = null;
    int lineNumber = 0;
    for (String line : text.split("\n", -1)) {
      lineNumber++;
      if (line.isEmpty()) {
        continue;
      }
      Matcher m;
      if ((m = HELP.matcher(line)).matches()) {
        continue;
      } else if ((m = TYPE.matcher(line)).matches()) {
        family = m.group(1);
        if (parsed.types.put(family, m.group(2)) != null) {
          throw new AssertionError("line " + lineNumber + ": family declared twice: " + line);
        }
      } else if ((m = SAMPLE.matcher(line)).matches()) {
        String name = m.group(1);
        if (family == null || !belongsTo(name, family, parsed.types.get(family))) {
          throw new AssertionError("line " + lineNumber + ": sample outside its family " + family + ": " + line);
        }
        parsed.samples.add(new Sample(name, labels(m.group(3), lineNumber), value(m.group(4), lineNumber)));
      } else {
        throw new AssertionError("line " + lineNumber + " is not exposition format: " + line);
      }
    }
    parsed.checkHistograms();
    return parsed;
  }

  private static boolean belongsTo(String name, String family, String type) {
    return switch (type) {
      case "counter" -> name.equals(family) || name.equals(family + "_total") || name.equals(family + "_created");
      case "histogram" -> name.equals(family + "_bucket") || name.equals(family + "_count") || name.equals(family + "_sum") || name.equals(family + "_created");
      case "summary" -> name.equals(family) || name.equals(family + "_count") || name.equals(family + "_sum") || name.equals(family + "_created");
      default -> name.equals(family);
    };
  }

  private static Map<String, String> labels(String text, int lineNumber) {
    Map<String, String> labels = new LinkedHashMap<>();
    if (text == null || text.isEmpty()) {
      return labels;
    }
    Matcher m = LABEL.matcher(text);
    int at = 0;
    while (at < text.length()) {
      if (!m.find(at) || m.start() != at) {
        throw new AssertionError("line " + lineNumber + ": bad labels {" + text + "}");
      }
      labels.put(m.group(1), m.group(2));
      at = m.end();
    }
    return labels;
  }

  private static double value(String text, int lineNumber) {
    switch (text) {
      case "+Inf":
        return Double.POSITIVE_INFINITY;
      case "-Inf":
        return Double.NEGATIVE_INFINITY;
      case "NaN":
        return Double.NaN;
      default:
        try {
          return Double.parseDouble(text);
        } catch (NumberFormatException e) {
          throw new AssertionError("line " + lineNumber + ": bad value " + text);
        }
    }
  }

  /** Buckets must be cumulative, end with +Inf, and +Inf must equal _count. */
  private void checkHistograms() {
    for (Map.Entry<String, String> family : types.entrySet()) {
      if (!family.getValue().equals("histogram")) {
        continue;
      }
      Map<Map<String, String>, List<Sample>> series = new HashMap<>();
      for (Sample sample : samples) {
        if (sample.name().equals(family.getKey() + "_bucket")) {
          Map<String, String> key = new HashMap<>(sample.labels());
          key.remove("le");
          series.computeIfAbsent(key, k -> new ArrayList<>()).add(sample);
        }
      }
      for (Map.Entry<Map<String, String>, List<Sample>> one : series.entrySet()) {
        double previous = 0;
        for (Sample bucket : one.getValue()) {
          if (bucket.value() < previous) {
            throw new AssertionError(family.getKey() + " buckets are not cumulative: " + one.getValue());
          }
          previous = bucket.value();
        }
        Sample last = one.getValue().get(one.getValue().size() - 1);
        if (!"+Inf".equals(last.labels().get("le"))) {
          throw new AssertionError(family.getKey() + " has no +Inf bucket last: " + one.getValue());
        }
        double count = value(family.getKey() + "_count", one.getKey());
        if (count != last.value()) {
          throw new AssertionError(family.getKey() + " +Inf bucket " + last.value() + " != count " + count);
        }
      }
    }
  }

  /** The value of the one sample with this name and exactly these labels; fails when absent. */
  double value(String name, Map<String, String> labels) {
    return samples.stream()
        .filter(s -> s.name().equals(name) && s.labels().equals(labels))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no sample " + name + labels + " among " + names()))
        .value();
  }

  /** Sum over the samples of this name whose labels include {@code labels}. */
  double sum(String name, Map<String, String> labels) {
    return samples.stream()
        .filter(s -> s.name().equals(name) && s.labels().entrySet().containsAll(labels.entrySet()))
        .mapToDouble(Sample::value)
        .sum();
  }

  List<String> names() {
    return samples.stream().map(Sample::name).distinct().toList();
  }
}
