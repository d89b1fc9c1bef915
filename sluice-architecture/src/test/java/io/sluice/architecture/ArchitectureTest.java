package io.sluice.architecture;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideOutsideOfPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaCodeUnit;
import com.tngtech.archunit.core.domain.JavaField;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The architecture, as rules a wrong import breaks: the modules and what each may use, no cycle
 * between them, the layers inside {@code sluice-http}, and the public API boundary (no Netty or
 * HdrHistogram type, and no Sluice-internal type, in a public signature of an API package).
 * {@code docs/architecture.md} explains each rule. Main code only; tests may reach further.
 */
class ArchitectureTest {

    /** Each module's packages (by prefix), in dependency order. */
    static final Map<String, String> MODULE_PACKAGES = new LinkedHashMap<>();

    /** What each module's main code may use besides itself (other Sluice modules; anything outside Sluice is free). */
    static final Map<String, List<String>> MAY_USE = new LinkedHashMap<>();

    static {
        module("pool", "io.sluice.pool..");
        module("testkit", "io.sluice.testkit..");
        module("http", "io.sluice.http..", "pool");
        module("websocket", "io.sluice.websocket..", "http", "pool");
        module("routing", "io.sluice.routing..", "http", "pool");
        module("prometheus", "io.sluice.prometheus..", "pool", "http", "websocket", "routing", "ratelimit");
        module("micrometer", "io.sluice.micrometer..", "pool", "http", "websocket", "routing", "ratelimit");
        module("tracing", "io.sluice.tracing..", "http", "pool");
        module("ratelimit", "io.sluice.ratelimit..", "http", "pool");
        module("openai", "io.sluice.openai..", "http", "pool");
        module("anthropic", "io.sluice.anthropic..", "http", "pool");
        module("langchain4j", "io.sluice.langchain4j..", "http", "pool");
        module("spring", "io.sluice.spring..", "http", "pool", "micrometer", "tracing", "ratelimit", "openai",
                "anthropic");
        module("cli", "io.sluice.cli..", "pool", "http", "websocket", "routing", "prometheus", "ratelimit", "testkit");
    }

    private static void module(String name, String packages, String... mayUse) {
        MODULE_PACKAGES.put(name, packages);
        MAY_USE.put(name, List.of(mayUse));
    }

    /** Packages whose public types are the API users program against. */
    static final String[] API_PACKAGES = {
        "io.sluice.pool", "io.sluice.pool.health",
        "io.sluice.http", "io.sluice.http.sse", "io.sluice.http.retry", "io.sluice.http.sdk",
        "io.sluice.websocket", "io.sluice.routing", "io.sluice.prometheus", "io.sluice.micrometer",
        "io.sluice.tracing", "io.sluice.tracing.otel", "io.sluice.tracing.micrometer", "io.sluice.ratelimit",
        "io.sluice.openai", "io.sluice.anthropic", "io.sluice.langchain4j",
        "io.sluice.spring.http", "io.sluice.spring.boot",
    };

    /** sluice-http's packages that no other module may use. */
    static final String[] HTTP_INTERNALS = {
        "io.sluice.http.internal..",
    };

    /** sluice-http's one package shared with another module: the dialer, for sluice-websocket. */
    static final String HTTP_SHARED_DIALER = "io.sluice.http.spi..";

    static JavaClasses main;

    @BeforeAll
    static void importMainCode() {
        main = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS)
                .importPackages("io.sluice");
        if (main.size() < 100) {
            // Run from jars (not class directories): import those too, but still no test classes.
            main = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                    .importPackages("io.sluice");
        }
    }

    @Test
    void theModulesFormNoCycle() {
        slices().matching("io.sluice.(*)..").should().beFreeOfCycles().check(main);
    }

    @Test
    void eachModuleUsesOnlyTheModulesBelowIt() {
        List<ArchRule> rules = new ArrayList<>();
        for (Map.Entry<String, String> m : MODULE_PACKAGES.entrySet()) {
            List<String> allowed = new ArrayList<>();
            allowed.add(m.getValue());
            for (String dep : MAY_USE.get(m.getKey())) {
                allowed.add(MODULE_PACKAGES.get(dep));
            }
            rules.add(classes().that().resideInAPackage(m.getValue())
                    .should().onlyDependOnClassesThat(resideOutsideOfPackage("io.sluice..")
                            .or(resideInAnyPackage(allowed.toArray(String[]::new))))
                    .as("sluice-" + m.getKey() + " uses only " + allowed));
        }
        rules.forEach(r -> r.check(main));
    }

    @Test
    void noModuleReachesIntoTheHttpClientsInternals() {
        noClasses().that().resideOutsideOfPackage("io.sluice.http..")
                .should().dependOnClassesThat().resideInAnyPackage(HTTP_INTERNALS)
                .as("only sluice-http uses io.sluice.http.internal")
                .check(main);
        noClasses().that().resideOutsideOfPackages("io.sluice.http..", "io.sluice.websocket..")
                .should().dependOnClassesThat().resideInAPackage(HTTP_SHARED_DIALER)
                .as("the shared dialer (io.sluice.http.spi) is for sluice-websocket only")
                .check(main);
    }

    @Test
    void theHttpClientsLayersPointDown() {
        // api (io.sluice.http) -> client -> transport -> spi; the API's value types are used everywhere
        noClasses().that().resideInAnyPackage("io.sluice.http.internal.transport..", "io.sluice.http.spi..",
                        "io.sluice.http.retry..", "io.sluice.http.sse..")
                .should().dependOnClassesThat().resideInAPackage("io.sluice.http.internal.client..")
                .as("the client layer sits above transport, spi, retry and sse")
                .check(main);
        noClasses().that().resideInAnyPackage("io.sluice.http.spi..",
                        "io.sluice.http.retry..", "io.sluice.http.sse..")
                .should().dependOnClassesThat().resideInAPackage("io.sluice.http.internal.transport..")
                .as("the transport layer sits above spi, retry and sse")
                .check(main);
    }

    /**
     * A library module's public types are its API or live in an {@code internal} package (or are the
     * HTTP client's SPI for sluice-websocket), so that a user can tell from the import what may change
     * without notice.
     */
    @Test
    void everyPublicLibraryTypeIsApiInternalOrTheDialerSpi() {
        classes().that().resideInAPackage("io.sluice..").and().arePublic().and().areTopLevelClasses()
                .and().resideOutsideOfPackages("io.sluice.cli..", "io.sluice.bench..", "io.sluice.testkit..",
                        "io.sluice.architecture..")
                .should().resideInAnyPackage(concat(API_PACKAGES, "..internal..", HTTP_SHARED_DIALER))
                .as("public library types are API, internal, or the dialer SPI")
                .check(main);
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void publicApiSignaturesExposeNoNettyHdrHistogramOrInternalType() {
        classes().that().resideInAnyPackage(API_PACKAGES).and().arePublic()
                .should(exposeOnlyApiTypes())
                .check(main);
    }

    /** Types a public signature of an API package must not mention. */
    private static boolean forbiddenInApi(JavaClass t) {
        String pkg = t.getPackageName();
        if (pkg.startsWith("io.netty") || pkg.startsWith("org.HdrHistogram")) {
            return true;
        }
        if (!pkg.startsWith("io.sluice")) {
            return false;
        }
        return !Set.of(API_PACKAGES).contains(pkg);
    }

    private static ArchCondition<JavaClass> exposeOnlyApiTypes() {
        return new ArchCondition<>("expose no Netty, HdrHistogram or Sluice-internal type in a public signature") {
            @Override
            public void check(JavaClass c, ConditionEvents events) {
                for (JavaCodeUnit u : c.getCodeUnits()) {
                    if (!u.getModifiers().contains(JavaModifier.PUBLIC) || u.getName().startsWith("lambda$")) {
                        continue;
                    }
                    List<JavaClass> involved = new ArrayList<>(u.getReturnType().getAllInvolvedRawTypes());
                    u.getParameterTypes().forEach(p -> involved.addAll(p.getAllInvolvedRawTypes()));
                    for (JavaClass t : involved) {
                        if (forbiddenInApi(t)) {
                            events.add(SimpleConditionEvent.violated(u, u.getFullName() + " exposes " + t.getName()));
                        }
                    }
                }
                for (JavaField f : c.getFields()) {
                    if (f.getModifiers().contains(JavaModifier.PUBLIC)) {
                        for (JavaClass t : f.getType().getAllInvolvedRawTypes()) {
                            if (forbiddenInApi(t)) {
                                events.add(SimpleConditionEvent.violated(f, f.getFullName() + " exposes " + t.getName()));
                            }
                        }
                    }
                }
            }
        };
    }

}
