/*
 * GuiSmokeIT's driver, run by the real QuPath GUI as its startup script (-Dqupath.startup.script).
 * It does what a user does, through QuPath's own menu and the extension's own window: waits for the
 * slide, fires Extensions > H2G-Net > Segment tumour (whole image), screenshots the progress window and
 * the result, runs it again and presses Cancel mid-job, checks the sidecar still answers, writes
 * report.json and exits QuPath. Runs off the JavaFX thread; touches the UI only through Platform.runLater.
 */
import java.awt.Rectangle
import java.awt.Robot
import java.awt.Toolkit
import java.util.concurrent.CompletableFuture
import java.util.concurrent.TimeUnit
import javax.imageio.ImageIO

import com.google.gson.GsonBuilder
import javafx.application.Platform
import javafx.scene.control.Button
import javafx.scene.control.Label
import javafx.scene.control.Menu
import javafx.stage.Stage
import javafx.stage.Window

import qupath.ext.h2gnet.core.H2GNet
import qupath.ext.h2gnet.core.sidecar.SharedConnections
import qupath.lib.gui.QuPathGUI

def out = new File(System.getProperty('h2gnet.smoke.out'))
def qupath = QuPathGUI.getInstance()
def report = [steps: []]

def fx = { Closure c ->
    def f = new CompletableFuture()
    Platform.runLater { try { f.complete(c()) } catch (Throwable t) { f.completeExceptionally(t) } }
    f.get(60, TimeUnit.SECONDS)
}
def waitFor = { String what, double seconds, Closure c, long pollMs = 100 ->
    long end = System.nanoTime() + (long) (seconds * 1e9)
    while (System.nanoTime() < end) {
        def v = c()
        if (v) return v
        Thread.sleep(pollMs)
    }
    throw new IllegalStateException("timed out after ${seconds} s waiting for: ${what}")
}
def screenshot = { String name ->
    Thread.sleep(300) // let JavaFX paint
    def size = Toolkit.defaultToolkit.screenSize
    ImageIO.write(new Robot().createScreenCapture(new Rectangle(0, 0, (int) size.width, (int) size.height)), 'png', new File(out, name))
    report.steps << ("screenshot " + name)
}
def menuItem = { List<String> path ->
    def items = qupath.getMenuBar().getMenus()
    def found = null
    for (String name : path) {
        found = items.find { it.text == name }
        if (found == null) throw new IllegalStateException("no menu item '${name}' in ${items*.text}")
        if (found instanceof Menu) items = found.items
    }
    found
}
def progressWindow = { Window.getWindows().find { it instanceof Stage && it.title == 'H2G-Net tumour segmentation' && it.showing } }
def statusText = { Stage w -> w.scene.root.childrenUnmodifiable.findAll { it instanceof Label }*.text.join(' | ') }
// What the windows show (ControlsFX notifications are popups of their own): every Label's text.
def notificationTexts = {
    Window.getWindows().findAll { it.showing && it.scene != null }.collectMany { w ->
        w.scene.root.lookupAll('.label').findAll { it instanceof Label && it.text }*.text
    }.findAll { it.contains('tumour region') || it.contains('cancelled') }
}
def annotations = { qupath.getImageData().getHierarchy().getAnnotationObjects().size() }

Thread.start('h2gnet-gui-smoke') {
    int exit = 0
    try {
        waitFor('the slide to open', 120) { fx { qupath.getImageData() != null } }
        def segment = fx { menuItem(['Extensions', 'H2G-Net', 'Segment tumour (whole image)']) }
        report.menu = fx { menuItem(['Extensions', 'H2G-Net']).items*.text.findAll { it } }
        report.imageName = fx { qupath.getImageData().getServer().getMetadata().getName() }
        // Edit > Preferences > H2G-Net: each item's name and the value it shows.
        report.preferences = fx {
            qupath.getPreferencePane().getPropertySheet().getItems().findAll { it.category == 'H2G-Net' }
                    .collectEntries { [(it.name): String.valueOf(it.value)] }
        }

        // 1. A whole run: progress window while patches are scored, then the result.
        // Notifications are collected all along: one may come and go between two looks.
        // So is the progress window's text: on a fast machine the whole job can end between two looks.
        def notified = [] as LinkedHashSet
        def progressSeen = [] as LinkedHashSet
        def watcher = Thread.start('h2gnet-notifications') {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    notified.addAll(fx { notificationTexts() })
                    def shown = fx { def w = progressWindow(); w ? statusText(w) : null }
                    if (shown) progressSeen << shown
                    Thread.sleep(50)
                } catch (InterruptedException e) { break }
            }
        }
        fx { segment.fire() }
        def window = waitFor('the progress window', 30) { fx { progressWindow() } }
        progressSeen << fx { statusText(window) }
        waitFor('patch progress', 120) { fx { statusText(window).toLowerCase().contains('patch') || !window.showing } }
        screenshot('1-progress.png')
        waitFor('the annotations', 300) { fx { annotations() > 0 && !window.showing } }
        fx { qupath.getViewer().repaintEntireImage() }
        try {
            waitFor('the completion notification', 10) { !notified.isEmpty() }
            Thread.sleep(700) // the notification fades in
        } finally {
            report.windows = fx { Window.getWindows().collect { it.getClass().simpleName + (it.showing ? '' : ' (hidden)') } }
            watcher.interrupt()
        }
        report.notifications = notified as List
        report.progressTexts = progressSeen as List
        screenshot('2-result.png')
        report.first = fx {
            def h = qupath.getImageData().getHierarchy()
            def objs = h.getAnnotationObjects()
            [annotations: objs.size(),
             tumour: objs.count { it.pathClass?.name == 'Tumor' },
             atRoot: objs.count { it.parent == h.rootObject },
             demo: objs.count { it.metadata['h2gnet.demo_weights'] == 'true' },
             ruleSets: objs.collect { it.metadata['h2gnet.param.reference'] }.unique(),
             precisions: objs.collect { it.metadata['h2gnet.precision'] }.unique(),
             script: qupath.getImageData().getHistoryWorkflow().getSteps().last().script,
             workflow: qupath.getImageData().getHistoryWorkflow().getSteps()*.name]
        }

        // 2. A second run, cancelled mid-job: nothing is added and the sidecar still answers.
        int before = fx { annotations() }
        fx { segment.fire() }
        window = waitFor('the second progress window', 30) { fx { progressWindow() } }
        // Looked at every 10 ms and cancelled in the same JavaFX turn: on a fast machine the whole job
        // takes about a second.
        report.cancelledAt = waitFor('the job to start on the sidecar', 60, {
            fx {
                def text = statusText(window)
                if (!(text =~ /(?i)queued|opening|tissue|patch/) && window.showing) return null
                window.scene.root.lookupAll('.button').find { it instanceof Button && it.text == 'Cancel' }?.fire()
                text
            }
        }, 10)
        screenshot('3-cancelling.png')
        waitFor('the progress window to close', 60) { fx { !window.showing } }
        def seen = [] as LinkedHashSet
        for (int i = 0; i < 15; i++) { // 3 s: a result that was not really cancelled would land now
            seen.addAll(fx { notificationTexts() })
            Thread.sleep(200)
        }
        report.cancelNotifications = seen as List
        screenshot('4-cancelled.png')
        def connection = SharedConnections.forDefaultSettings()
        report.second = [before: before, after: fx { annotations() },
                         sidecarVersion: connection.client().info().getVersion(),
                         sidecarStarts: connection.launcher().starts()]
    } catch (Throwable t) {
        report.error = t.toString()
        exit = 2
        try { screenshot('error.png') } catch (Throwable ignored) { }
    } finally {
        new File(out, "report.json").text = new GsonBuilder().setPrettyPrinting().create().toJson(report)
        System.exit(exit)
    }
}
