package io.sluice.architecture;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * What a user who adds Sluice to a build relies on: the BOM names every published module at the
 * project's version, and every module says what it is under which licence (the metadata Maven
 * Central requires, inherited from the parent or, for the parent-less BOM, its own).
 */
class PublishedModulesTest {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @Test
    void theBomListsEveryPublishedModuleAtTheProjectVersion() throws Exception {
        Document parent = read(ROOT.resolve("pom.xml"));
        String version = text(parent.getDocumentElement(), "version");
        List<String> published = new ArrayList<>();
        for (String module : children(child(parent.getDocumentElement(), "modules"), "module")) {
            if (module.equals("sluice-bom")) {
                continue;
            }
            Document pom = read(ROOT.resolve(module).resolve("pom.xml"));
            Element props = child(pom.getDocumentElement(), "properties");
            boolean skipped = props != null && "true".equals(text(props, "sluice.skipPublishedJars"));
            if (!skipped) {
                published.add(text(pom.getDocumentElement(), "artifactId"));
            }
        }
        Document bom = read(ROOT.resolve("sluice-bom/pom.xml"));
        assertThat(text(bom.getDocumentElement(), "version")).as("the BOM's version").isEqualTo(version);
        assertThat(child(bom.getDocumentElement(), "parent")).as("a BOM with a parent manages the parent's dependencies too").isNull();
        List<String> listed = new ArrayList<>();
        Element deps = child(child(bom.getDocumentElement(), "dependencyManagement"), "dependencies");
        for (Node n = deps.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element d) {
                assertThat(text(d, "version")).isEqualTo("${project.version}");
                listed.add(text(d, "artifactId"));
            }
        }
        assertThat(published).as("published modules").contains("sluice-pool", "sluice-http", "sluice-openai");
        assertThat(listed).containsExactlyInAnyOrderElementsOf(published);
    }

    @Test
    void everyPomCarriesTheLicenceAndTheProjectsAddress() throws Exception {
        for (Path pom : List.of(ROOT.resolve("pom.xml"), ROOT.resolve("sluice-bom/pom.xml"))) {
            Element p = read(pom).getDocumentElement();
            assertThat(text(child(child(p, "licenses"), "license"), "name")).as(pom + " licence")
                    .isEqualTo("Apache License, Version 2.0");
            assertThat(text(p, "url")).as(pom + " url").startsWith("https://");
            assertThat(text(child(p, "scm"), "connection")).as(pom + " scm").startsWith("scm:git:");
            assertThat(child(p, "developers")).as(pom + " developers").isNotNull();
            assertThat(text(child(p, "properties"), "project.build.outputTimestamp")).as(pom + " reproducible builds")
                    .isNotBlank();
        }
        assertThat(Files.readString(ROOT.resolve("LICENSE"))).contains("Apache License", "Version 2.0, January 2004");
    }

    private static Document read(Path p) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        return f.newDocumentBuilder().parse(p.toFile());
    }

    private static Element child(Element parent, String name) {
        if (parent == null) {
            return null;
        }
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(name)) {
                return e;
            }
        }
        return null;
    }

    private static String text(Element parent, String name) {
        Element e = child(parent, name);
        return e == null ? null : e.getTextContent().trim();
    }

    private static List<String> children(Element parent, String name) {
        List<String> out = new ArrayList<>();
        NodeList list = parent.getElementsByTagName(name);
        for (int i = 0; i < list.getLength(); i++) {
            out.add(list.item(i).getTextContent().trim());
        }
        return out;
    }
}
