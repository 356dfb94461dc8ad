package dev.drawbridge.protocol;

/** One header line as it travels between proxy and agent; repeated names stay separate fields. */
public record HeaderField(String name, String value) {}
