// A tiny SwiftUI sample: set up the sample street as a street chief, report a problem, watch
// the inbox refresh, and a sync button that says sync arrives with the server. Add it to an
// Xcode iOS app target that depends on the Xiangying package (see ../../README.md).
import SwiftUI
import Xiangying

@main
struct XiangyingSampleApp: App {
    var body: some Scene {
        WindowGroup { ContentView() }
    }
}

@MainActor
final class Model: ObservableObject {
    @Published var inbox: [CaseSummary] = []
    @Published var status = "打开中…"
    private(set) var store: Xiangying?

    func start() async {
        do {
            let dir = FileManager.default.urls(for: .applicationSupportDirectory, in: .userDomainMask)[0]
                .appendingPathComponent("xiangying", isDirectory: true)
            let store = try await Xiangying.open(dir: dir)
            self.store = store
            if try await store.me() == nil {
                // The sample street of the tests; a real app gets these files from the server.
                let roster = try String(contentsOf: Bundle.main.url(forResource: "sample-roster", withExtension: "json")!)
                let catalogue = try String(contentsOf: Bundle.main.url(forResource: "sample-catalogue", withExtension: "json")!)
                try await store.installOrg(rosterJson: roster, catalogueJson: catalogue)
                try await store.setPerson("psc1")
            }
            status = "已就绪"
            for try await list in store.inboxUpdates() {
                inbox = list
            }
        } catch let e as ApiError {
            status = "\(e)"
        } catch {
            status = error.localizedDescription
        }
    }

    func report(_ text: String) async {
        guard let store else { return }
        do {
            _ = try await store.report(category: "020101", location: GeoPoint(lon: 0.05, lat: 0.05), description: text)
            status = "已上报"
        } catch ApiError.InvalidInput(let field, let problem) {
            status = "\(field): \(problem)"
        } catch {
            status = "\(error)"
        }
    }
}

struct ContentView: View {
    @StateObject private var model = Model()
    @State private var text = ""
    @State private var showSync = false

    var body: some View {
        NavigationStack {
            List {
                Section("上报问题") {
                    TextField("几句话说明问题", text: $text)
                    Button("上报") { Task { await model.report(text); text = "" } }
                }
                Section("待办 (\(model.inbox.count))") {
                    ForEach(model.inbox, id: \.id) { c in
                        VStack(alignment: .leading) {
                            Text(c.categoryName).font(.headline)
                            Text(c.description).font(.subheadline)
                        }
                    }
                }
            }
            .navigationTitle("响应")
            .toolbar {
                Button("同步") { showSync = true }
            }
            .alert("同步功能将随同步服务器一起提供", isPresented: $showSync) {
                Button("好") {}
            } message: {
                Text("Sync arrives with the sync server; until then cases stay on this phone.")
            }
            .safeAreaInset(edge: .bottom) { Text(model.status).font(.footnote) }
        }
        .task { await model.start() }
    }
}
