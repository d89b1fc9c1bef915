package io.sluice.pool;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Keeps the README's pool example true: extracts it, compiles it, and runs it against a loopback server. */
class ReadmeExampleTest {

    private static final Pattern BLOCK = Pattern.compile("```java\\n// README example: sluice-pool\\n(.*?)```", Pattern.DOTALL);

    @Test
    void readmePoolExampleCompilesAndRuns(@TempDir Path dir) throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        Matcher m = BLOCK.matcher(readme);
        assertThat(m.find()).as("README has the pool example").isTrue();
        Path src = dir.resolve("PoolExample.java");
        Files.writeString(src, m.group(1));

        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
        List<String> args = new ArrayList<>(List.of("--release", "17", "-cp", System.getProperty("java.class.path"),
                "-d", dir.toString(), src.toString()));
        int rc = javac.run(null, diagnostics, diagnostics, args.toArray(new String[0]));
        assertThat(rc).as(diagnostics.toString(StandardCharsets.UTF_8)).isZero();

        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             URLClassLoader loader = new URLClassLoader(new URL[] {dir.toUri().toURL()}, getClass().getClassLoader())) {
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) {
                        server.accept();
                    }
                } catch (Exception ignored) {
                    // server closed
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            Method main = loader.loadClass("PoolExample").getMethod("main", String[].class);
            PrintStream original = System.out;
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            try {
                main.invoke(null, (Object) new String[] {Integer.toString(server.getLocalPort())});
            } finally {
                System.setOut(original);
            }
            assertThat(out.toString(StandardCharsets.UTF_8)).contains("leased /127.0.0.1:" + server.getLocalPort())
                    .contains("pool 'example': ").contains(" open (").contains("acquires 1");
        }
    }
}
