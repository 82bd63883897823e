// Compile-only stand-in for QuPath 0.6.0 (see qupath-api-stubs/pom.xml): declarations only, no QuPath code.
package qupath.fx.dialogs;

public class Dialogs {

	public static void showErrorNotification(final String title, final String message) {
		throw new UnsupportedOperationException("QuPath API stub");
	}

	public static void showWarningNotification(final String title, final String message) {
		throw new UnsupportedOperationException("QuPath API stub");
	}

	public static void showInfoNotification(final String title, final String message) {
		throw new UnsupportedOperationException("QuPath API stub");
	}

	public static void showPlainMessage(final String title, final String message) {
		throw new UnsupportedOperationException("QuPath API stub");
	}
}
