// The Android library: the generated bindings and the Kotlin layer (src/main/kotlin, shared
// with pom.xml's JVM build), the Android-only wiring (src/android/kotlin: the WorkManager
// worker, connectivity and lifecycle; pom.xml does not compile it), plus libxiangying_ffi.so
// for each ABI in src/main/jniLibs, built by cargo-ndk (see ../README.md).
// Published as cn.xiangying:xiangying-android:<version>, the version of the Rust workspace
// (`[workspace.package] version` in ../../Cargo.toml, or -PxiangyingVersion), by
// ../build-aar.sh into build/repo (a Maven repository folder). Not run on the project's
// machines (no Gradle, no Android SDK there).
plugins {
    id("com.android.library")
    id("org.jetbrains.kotlin.android")
    `maven-publish`
}

/** The `version` of the `[workspace.package]` table of the workspace's Cargo.toml. */
fun workspaceVersion(): String {
    val toml = rootDir.resolve("../Cargo.toml")
    var inTable = false
    for (line in toml.readLines()) {
        val t = line.trim()
        if (t.startsWith("[")) {
            inTable = t == "[workspace.package]"
        } else if (inTable) {
            Regex("""^version\s*=\s*"([^"]+)"""").find(t)?.let { return it.groupValues[1] }
        }
    }
    error("no [workspace.package] version in ${toml.path}")
}

val xiangyingVersion: String =
    (findProperty("xiangyingVersion") as String?) ?: workspaceVersion()

group = "cn.xiangying"
version = xiangyingVersion

android {
    namespace = "cn.xiangying"
    compileSdk = 35
    defaultConfig {
        minSdk = 24
        consumerProguardFiles("consumer-rules.pro")
    }
    sourceSets["main"].jniLibs.srcDirs("src/main/jniLibs")
    sourceSets["main"].java.srcDirs("src/android/kotlin")
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    kotlinOptions { jvmTarget = "17" }
    // The release variant, with a sources jar, is what maven-publish publishes.
    publishing {
        singleVariant("release") { withSourcesJar() }
    }
}

dependencies {
    // JNA as an AAR on Android (it carries its own libjnidispatch.so per ABI).
    implementation("net.java.dev.jna:jna:5.17.0@aar")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.10.2")
    // Background sync (XiangyingSyncWorker) and the app-wide lifecycle (AppForegroundObserver).
    api("androidx.work:work-runtime-ktx:2.10.0")
    api("androidx.lifecycle:lifecycle-process:2.8.7")
}

// The release component exists only once AGP has configured the variants (afterEvaluate), so
// the publication is made then, as the Android Gradle plugin's publishing guide does it.
afterEvaluate {
    publishing {
        publications {
            create<MavenPublication>("release") {
                from(components["release"])
                groupId = "cn.xiangying"
                artifactId = "xiangying-android"
                version = xiangyingVersion
                pom {
                    name.set("Xiangying for Android")
                    description.set(
                        "The Xiangying (响应) offline-first grid governance core for Android: " +
                            "libxiangying_ffi for arm64-v8a, armeabi-v7a and x86_64, its uniffi " +
                            "bindings and the Kotlin layer with WorkManager and lifecycle wiring.",
                    )
                    licenses {
                        license { name.set("Apache-2.0") }
                    }
                }
            }
        }
    }
}

publishing {
    repositories {
        // A folder laid out as a Maven repository: upload it, or point a build at it with
        // maven { url = uri(".../android/xiangying/build/repo") }.
        maven {
            name = "local"
            url = uri(layout.buildDirectory.dir("repo"))
        }
    }
}
