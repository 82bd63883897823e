package qupath.ext.h2gnet.core;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * A setting with a fixed set of values that travel to the sidecar as strings (the proto's
 * {@code precision} and {@code reference}); each enum of them is the one table of its spellings here.
 */
public interface WireName {

	/** The value as the sidecar (and the builder, and the preferences) spell it. */
	String wireName();

	/** The wire names of all values, in declaration order. */
	static List<String> namesOf(WireName[] values) {
		return Arrays.stream(values).map(WireName::wireName).toList();
	}

	/**
	 * The value spelled {@code value} (surrounding spaces and case ignored).
	 * @throws IllegalArgumentException naming the setting and the values it takes
	 */
	static <E extends WireName> E parse(E[] values, String setting, String value) {
		String wanted = value == null ? "" : value.strip().toLowerCase(Locale.ROOT);
		for (E e : values) {
			if (e.wireName().equals(wanted))
				return e;
		}
		throw new IllegalArgumentException("The " + setting + " must be one of " + String.join(", ", namesOf(values))
				+ ", not '" + (value == null ? "" : value) + "'");
	}
}
