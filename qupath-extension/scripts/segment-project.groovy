/*
 * H2G-Net: segment the tumour in every image of a QuPath project.
 *   In QuPath: Automate > Script editor, open this file, Run > Run for project.
 *   Headless:  QuPath script -p PROJECT.qpproj -s -a "SIDECAR COMMAND" segment-project.groovy
 * QuPath runs it once per image; all images share one sidecar, started on the first image.
 */
import qupath.ext.h2gnet.core.H2GNet

// The command that starts the sidecar: the one given with -a, else 'h2g serve' (its default model set).
def sidecar = args ? args[0] : 'h2g serve'
def tumours = H2GNet.builder()
        .launchCommand(sidecar)
        .tissueThreshold(0.5)
        .build()
        .segment(getCurrentImageData())
println "${getProjectEntry().getImageName()}: ${tumours.size()} tumour region(s)"
