package qupath.ext.h2gnet.core;

import java.util.List;

/**
 * Which rules the sidecar follows to pick levels, patches and the refinement inputs
 * ({@code SegmentOptions.reference}; the README's "FastPathology's rules").
 */
public enum RuleSet implements WireName {
	/** FastPathology's rules, with the project's better low-resolution image on one-tile pyramids (the default). */
	FAST("fast"),
	/** FastPathology's rules everywhere, one-tile pyramids included. */
	FAST_EXACT("fast-exact"),
	/** The rules this project used before 0.2.0. */
	H2G("h2g");

	private final String wireName;

	RuleSet(String wireName) {
		this.wireName = wireName;
	}

	@Override
	public String wireName() {
		return wireName;
	}

	/** @throws IllegalArgumentException for anything but fast, fast-exact or h2g */
	public static RuleSet parse(String value) {
		return WireName.parse(values(), "rule set (reference)", value);
	}

	public static List<String> wireNames() {
		return WireName.namesOf(values());
	}
}
