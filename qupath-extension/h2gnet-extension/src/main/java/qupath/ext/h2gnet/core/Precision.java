package qupath.ext.h2gnet.core;

import java.util.List;

/**
 * The arithmetic of the patch model the sidecar runs ({@code SegmentRequest.precision}). QuPath always
 * says which, so a workflow script repeats the same arithmetic whatever the sidecar's own default.
 */
public enum Precision implements WireName {
	/** The published model as it is: the reference's arithmetic (the default). */
	FLOAT32("float32"),
	/** The set's int8 sibling, made on the sidecar's machine with {@code h2g models quantize}. */
	INT8("int8");

	private final String wireName;

	Precision(String wireName) {
		this.wireName = wireName;
	}

	@Override
	public String wireName() {
		return wireName;
	}

	/** @throws IllegalArgumentException for anything but float32 or int8 */
	public static Precision parse(String value) {
		return WireName.parse(values(), "precision", value);
	}

	public static List<String> wireNames() {
		return WireName.namesOf(values());
	}
}
