#[tulip::main]
async fn main(count: usize) {
    let _ = count;
}
