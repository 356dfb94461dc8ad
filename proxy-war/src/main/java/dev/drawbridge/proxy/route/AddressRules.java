package dev.drawbridge.proxy.route;

import java.util.List;

/**
 * A route's client address lists: an address in {@code deny} is refused; otherwise, when {@code
 * allow} is not empty, only addresses in it pass. With rules present, an address that cannot be
 * parsed is refused rather than waved through.
 */
public record AddressRules(List<Cidr> allow, List<Cidr> deny) {

  /** No rules: every address passes. */
  public static final AddressRules NONE = new AddressRules(List.of(), List.of());

  /** True when a client at {@code address} (an IP literal) may use the route. */
  public boolean permits(String address) {
    if (allow.isEmpty() && deny.isEmpty()) {
      return true;
    }
    byte[] bytes = Cidr.address(address);
    if (bytes == null) {
      return false;
    }
    for (Cidr block : deny) {
      if (block.contains(bytes)) {
        return false;
      }
    }
    if (allow.isEmpty()) {
      return true;
    }
    for (Cidr block : allow) {
      if (block.contains(bytes)) {
        return true;
      }
    }
    return false;
  }
}
