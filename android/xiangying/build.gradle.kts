// The Android library: the generated bindings and the Kotlin layer (src/main/kotlin, shared
// with pom.xml's JVM build), the Android-only wiring (src/android/kotlin: the WorkManager
// worker, connectivity and lifecycle; pom.xml does not compile it), plus libxiangying_ffi.so
// for each ABI in src/main/jniLibs, built by cargo-ndk (see ../README.md).
plugins {
    id("com.android.library")
    id("org.jetbrains.kotlin.android")
}

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
}

dependencies {
    // JNA as an AAR on Android (it carries its own libjnidispatch.so per ABI).
    implementation("net.java.dev.jna:jna:5.17.0@aar")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.10.2")
    // Background sync (XiangyingSyncWorker) and the app-wide lifecycle (AppForegroundObserver).
    api("androidx.work:work-runtime-ktx:2.10.0")
    api("androidx.lifecycle:lifecycle-process:2.8.7")
}
