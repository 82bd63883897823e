// Writes a QuPath project with QuPath's own API (DefaultProject via Projects.createProject), one image
// entry per path argument, each with the OpenSlide server builder QuPath itself records for a slide
// file. The files are not opened, so a missing path gives an entry like a project whose slide was
// later deleted. Used by scripts/make-qupath-project.sh to make test/fixtures/qupath-project/.
import java.awt.image.BufferedImage;
import java.io.File;
import qupath.lib.images.servers.ImageServerBuilder.DefaultImageServerBuilder;
import qupath.lib.images.servers.ImageServerBuilder.ServerBuilder;
import qupath.lib.projects.Projects;

public class MakeProject {
  @SuppressWarnings({"unchecked", "rawtypes"})
  public static void main(String[] args) throws Exception {
    // Registers QuPath's JSON adapters for server builders (done by QuPath at start-up).
    Class.forName("qupath.lib.images.servers.ImageServers");
    var project = Projects.createProject(new File(args[0]), BufferedImage.class);
    var openslide = Class.forName("qupath.lib.images.servers.openslide.OpenslideServerBuilder");
    for (int i = 1; i < args.length; i++) {
      var file = new File(args[i]);
      ServerBuilder<BufferedImage> builder = DefaultImageServerBuilder.createInstance((Class) openslide, file.toURI());
      project.addImage(builder).setImageName(file.getName());
    }
    project.syncChanges();
  }
}
