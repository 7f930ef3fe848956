// Android Studio entry point: the library module (the same Kotlin sources the Maven build tests
// on the JVM) and a small sample app. Not built on the project's Linux machines (no Gradle,
// no Android SDK there): see README.md.
pluginManagement {
    repositories { google(); mavenCentral(); gradlePluginPortal() }
}
dependencyResolutionManagement {
    repositories { google(); mavenCentral() }
}
rootProject.name = "xiangying-android"
include(":xiangying", ":sample")
